//! Opening this shard's connections and joining each to its room.

use std::{cell::RefCell, rc::Rc};

use tokio::{io::AsyncWriteExt, net::TcpStream, task::JoinSet};

use super::{
    receive::{is_error, receive, response_id},
    send::{Sender, start_sender},
    shard::{ConnStats, Shard},
};
use crate::{
    plan::{Ready, WorkerPlan},
    tag,
    ws::{self, FrameReader, OP_TEXT},
};

/// Opens this shard's connections, at most `connect_concurrency` at a
/// time, and joins each to its room.
pub(super) async fn connect_all(plan: &WorkerPlan, shard: &Rc<RefCell<Shard>>) -> (Ready, Vec<Sender>) {
    let mine: Vec<usize> = (plan.shard..plan.conns).step_by(plan.shards.max(1)).collect();
    shard.borrow_mut().conns = mine.iter().map(|&j| ConnStats::new(plan, j)).collect();

    let mut ready = Ready { started_ns: tag::now_ns(), ..Ready::default() };
    let mut senders = Vec::new();
    let mut pending = JoinSet::new();
    let mut next = 0;
    loop {
        while next < mine.len() && pending.len() < plan.connect_concurrency.max(1) {
            let (local, global) = (next, mine[next]);
            let token = plan.tokens[global % plan.tokens.len()].clone();
            let room = plan.room_name(plan.room_of(global));
            let (server, source) = (plan.server_of(global), plan.source);
            pending.spawn_local(async move { (local, global, open_and_join(server, source, &token, &room).await) });
            next += 1;
        }
        let Some(joined) = pending.join_next().await else { break };
        match joined {
            Ok((local, global, Ok((stream, reader, room_id)))) => {
                ready.connected += 1;
                if plan.is_sender(global) {
                    match start_sender(stream, reader, local, global, room_id, shard) {
                        Ok(sender) => senders.push(sender),
                        Err(e) => {
                            ready.failed += 1;
                            ready.first_error.get_or_insert(e.to_string());
                        }
                    }
                } else {
                    tokio::task::spawn_local(receive(stream, reader, local, Rc::clone(shard), None));
                }
            }
            Ok((_, _, Err(e))) => {
                ready.failed += 1;
                ready.first_error.get_or_insert(e);
            }
            Err(e) => {
                ready.failed += 1;
                ready.first_error.get_or_insert(e.to_string());
            }
        }
    }
    ready.finished_ns = tag::now_ns();
    (ready, senders)
}

/// Connects, upgrades, sends `join_room` and waits for its answer. Returns
/// the canonical room id.
async fn open_and_join(
    server: std::net::SocketAddr,
    source: Option<std::net::IpAddr>,
    token: &str,
    room: &str,
) -> Result<(TcpStream, FrameReader, String), String> {
    let (mut stream, mut reader) = ws::connect(server, source, token).await.map_err(|e| e.to_string())?;
    let join = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"join_room","params":{{"room_name":"{room}"}}}}"#);
    let mut frame = Vec::new();
    ws::encode_text(&mut frame, join.as_bytes());
    stream.write_all(&frame).await.map_err(|e| format!("join write: {e}"))?;
    loop {
        let mut answer: Option<Result<(), String>> = None;
        reader
            .frames(|op, payload| {
                if op == OP_TEXT && answer.is_none() && response_id(payload) == Some(1) {
                    answer = Some(if is_error(payload) {
                        Err(format!("join_room failed: {}", String::from_utf8_lossy(payload)))
                    } else {
                        Ok(())
                    });
                }
            })
            .map_err(|e| e.to_string())?;
        match answer {
            Some(Ok(())) => return Ok((stream, reader, room.to_ascii_lowercase())),
            Some(Err(e)) => return Err(e),
            None => {}
        }
        match reader.fill(&mut stream).await {
            Ok(0) => return Err("closed before join_room was answered".to_owned()),
            Ok(_) => {}
            Err(e) => return Err(format!("join read: {e}")),
        }
    }
}
