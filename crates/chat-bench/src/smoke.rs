//! `smoke`: tiny versions of every scenario against a server started in
//! this process. It proves the generator and the server agree on the wire
//! and that nothing is lost; its timings mean nothing (CI runs it on a
//! debug build next to other jobs) and are never compared to targets.

use std::time::Instant;

use crate::{
    report::Report,
    scenarios::{self, Ctx, DurableArgs, FanoutArgs, IdleArgs, LoginsArgs, OneRoom, RoomsArgs, Target},
    server::InProcessServer,
};

pub(crate) async fn run() -> anyhow::Result<bool> {
    let started = Instant::now();
    let server = InProcessServer::start().await?;
    let target = Target {
        urls: vec![server.base_url()],
        // The server shares this process; its RSS is ours.
        server_pids: vec![std::process::id()],
        shards: None,
        source_base: None,
        tokens_file: None,
        users: 4,
        user_prefix: "smoke".to_owned(),
        text_size: 100,
        step_secs: 1.0,
        settle_secs: 5.0,
        window: 32,
        json: None,
    };
    let ctx = Ctx::new(target.clone()).await?;
    let mut reports: Vec<Report> = Vec::new();

    let fanout = FanoutArgs {
        target: target.clone(),
        room: OneRoom { members: 50, senders: 2 },
        rates: vec![1_000.0, 5_000.0],
        keep_going: true,
    };
    reports.push(scenarios::fanout(&ctx, &fanout).await?);

    let rooms = RoomsArgs {
        target: target.clone(),
        rooms: 10,
        small_members: 5,
        small_rate: 1_000.0,
        big_members: 20,
        big_rates: vec![5_000.0],
        senders_per_room: 2,
        keep_going: true,
    };
    reports.push(scenarios::rooms(&ctx, &rooms).await?);

    let idle = IdleArgs { target: target.clone(), conns: 400, room_size: 50, connect_concurrency: 32 };
    reports.push(scenarios::idle(&ctx, &idle).await?);

    let durable = DurableArgs { target: target.clone(), senders: 20, rates: vec![500.0], keep_going: false };
    reports.push(scenarios::durable(&ctx, &durable).await?);

    let logins = LoginsArgs { target, room: OneRoom { members: 50, senders: 2 }, rate: 2_000.0, login_concurrency: 2 };
    reports.push(scenarios::logins(&ctx, &logins).await?);

    server.stop()?;
    let mut checked = 0.0;
    for report in &reports {
        println!("{}", report.render());
        checked += report.rows.iter().filter_map(|r| r.get("delivered").or(r.get("check deliveries"))).sum::<f64>();
    }
    let problems: Vec<&String> = reports.iter().flat_map(|r| &r.problems).collect();
    let seconds = started.elapsed().as_secs_f64();
    if problems.is_empty() {
        println!("smoke: OK, 0 lost ({checked:.0} deliveries checked, {seconds:.1} s)");
        Ok(true)
    } else {
        for p in &problems {
            println!("smoke: FAILED: {p}");
        }
        Ok(false)
    }
}
