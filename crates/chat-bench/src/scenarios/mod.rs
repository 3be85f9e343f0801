//! The standard scenarios: each turns its flags into a worker plan, runs
//! steps through a [`Fleet`](crate::fleet::Fleet) and renders one
//! [`Report`](crate::report::Report).
//!
//! - [`ctx`]: the target flags every scenario takes, and the context built
//!   from them.
//! - [`steps`]: what the scenarios do alike (start a fleet, step rates,
//!   watch the server, rows and problems from an outcome).
//! - [`one_room`]: the big room the fan-out and logins scenarios share.
//! - one module per scenario, its flags and its run:
//!   [`fanout`](mod@fanout), [`rooms`](mod@rooms), [`idle`](mod@idle),
//!   [`durable`](mod@durable), [`logins`](mod@logins).

mod ctx;
mod durable;
mod fanout;
mod idle;
mod logins;
mod one_room;
mod rooms;
mod steps;

pub(crate) use self::{
    ctx::{Ctx, Target},
    durable::{DurableArgs, durable},
    fanout::{FanoutArgs, fanout},
    idle::{IdleArgs, idle},
    logins::{LoginsArgs, logins},
    one_room::OneRoom,
    rooms::{RoomsArgs, rooms},
};
