//! One node loses PostgreSQL (through a proxy the test cuts): its sends
//! fail within a few seconds with a JSON-RPC error instead of hanging, its
//! connections stay up, the other nodes carry on; when the database comes
//! back, sends work again and nothing acknowledged is lost.
//!
//! Two kinds of cut: a blackhole (a partition: bytes stop, nothing
//! closes, only timeouts help) and a refusal (connections closed and
//! refused, as when the database restarts).

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{
    client::{CallError, Client},
    harness::{Cluster, NodeOptions, postgres_addr},
    load::{self, Ack, END, Expected, check_against_history, check_stream},
    proxy::{Mode, Proxy},
};

const ROOM: &str = "outage";
/// `storage.postgres_timeout_secs` of the node behind the proxy.
const TIMEOUT_SECS: u64 = 2;
/// How long past that timeout a failing send may take to be answered.
const ANSWER_SLACK: Duration = Duration::from_secs(4);
/// How long after the database is back the node has to send again.
const RECOVERY: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_off_from_postgres_fails_sends_fast_and_recovers() {
    let proxy = Proxy::start(postgres_addr()).await;
    let behind_proxy = NodeOptions {
        env: vec![("CHAT__STORAGE__POSTGRES_TIMEOUT_SECS".into(), TIMEOUT_SECS.to_string())],
        postgres_via: Some(proxy.addr),
    };
    let cluster =
        Cluster::start_with("postgres_outage", vec![behind_proxy, NodeOptions::default(), NodeOptions::default()])
            .await;
    let names = ["cutoff", "idler", "remote2", "remote3"];
    let tokens = cluster.tokens(&names).await;
    let mut cut = cluster.connect_in(0, "cutoff", &tokens[0], ROOM).await.0;
    let mut idler = cluster.connect_in(0, "idler", &tokens[1], ROOM).await.0;
    let mut remote2 = cluster.connect_in(1, "remote2", &tokens[2], ROOM).await.0;
    let mut remote3 = cluster.connect_in(2, "remote3", &tokens[3], ROOM).await.0;

    let mut acks: Vec<Ack> = Vec::new();
    let mut maybe: Vec<String> = Vec::new();
    let record = |acks: &mut Vec<Ack>, client: &Client, text: String, message_id: i64, phase: u8| {
        acks.push(Ack { text, message_id, phase, node: client.node });
    };
    for n in 0..5 {
        let text = format!("before the cut {n}");
        let id = cut.send(ROOM, &text).await;
        record(&mut acks, &cut, text, id, 0);
    }

    let mut phase = 0u8;
    for mode in [Mode::Blackhole, Mode::Refuse] {
        phase += 1;
        proxy.set(mode);
        // Sends on the cut-off node fail, clearly and in time.
        for attempt in 0..2 {
            let text = format!("during {mode:?} {attempt}");
            let started = Instant::now();
            let reply =
                cut.try_call("send_message", json!({"room_id": ROOM, "text": text}), Duration::from_secs(30)).await;
            let took = started.elapsed();
            let reply = match reply {
                Ok(reply) => reply,
                Err(CallError::Timeout) => {
                    panic!("{mode:?}: send_message on the cut-off node unanswered after {took:?}")
                }
                Err(CallError::Closed(code)) => panic!("{mode:?}: the cut-off node closed the connection ({code:?})"),
            };
            eprintln!("postgres_outage: {mode:?}: send {attempt} answered after {took:?}: {reply}");
            maybe.push(text);
            let error = &reply["error"];
            assert!(error.is_object(), "{mode:?}: send_message succeeded without its database: {reply}");
            assert_eq!(error["code"], -32603, "{mode:?}: expected an internal error: {reply}");
            assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{mode:?}: no message: {reply}");
            let limit = Duration::from_secs(TIMEOUT_SECS) + ANSWER_SLACK;
            assert!(took <= limit, "{mode:?}: the failing send took {took:?}, more than {limit:?}");
        }
        // Its connections stay up and answer.
        for client in [&mut cut, &mut idler] {
            let reply = client.call("no_such_method", json!({})).await;
            assert_eq!(reply["error"]["code"], -32601, "{reply}");
        }
        // The other nodes carry on.
        let text = format!("from node 2 during {mode:?}");
        let id = remote2.send(ROOM, &text).await;
        record(&mut acks, &remote2, text, id, phase);
        remote3.wait_for("message_received", |p| p["message_id"] == id).await;

        phase += 1;
        proxy.set(Mode::Pass);
        let restored = Instant::now();
        let mut failures = Vec::new();
        loop {
            let text = format!("after {mode:?} {}", failures.len());
            let reply = cut.call("send_message", json!({"room_id": ROOM, "text": text})).await;
            if let Some(id) = reply["result"]["message_id"].as_i64() {
                record(&mut acks, &cut, text, id, phase);
                break;
            }
            failures.push(reply["error"].clone());
            maybe.push(text);
            assert!(
                restored.elapsed() < RECOVERY,
                "{mode:?}: sends still fail {RECOVERY:?} after the database came back: {failures:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!(
            "postgres_outage: {mode:?}: sending again {:?} after the database came back ({} failed sends first: {failures:?})",
            restored.elapsed(),
            failures.len()
        );
        for n in 0..5 {
            let text = format!("after {mode:?}, more {n}");
            let id = cut.send(ROOM, &text).await;
            record(&mut acks, &cut, text, id, phase);
        }
    }

    // Nothing acknowledged is lost or doubled: in the history, and for
    // every member on every node.
    remote2.send(ROOM, END).await;
    let expected = Expected::from_acks(&acks, &maybe, &[END]);
    let phases = ["before", "blackhole", "after the blackhole", "refused", "after the refusal"];
    let mut problems = Vec::new();
    let mut streams = Vec::new();
    for client in [&mut cut, &mut idler, &mut remote2, &mut remote3] {
        let name = format!("{} on node {}", client.user, client.node + 1);
        let stream = load::read_until_end(client, ROOM).await;
        problems.extend(check_stream(&name, &stream, &expected, &phases));
        if client.is_closed() {
            problems.push(format!("{name}: connection closed"));
        }
        streams.push((name, stream));
    }
    let history = load::full_history(&mut remote3, ROOM).await;
    problems.extend(check_stream("the stored history", &history, &expected, &phases));
    for (name, stream) in &streams {
        problems.extend(check_against_history(name, stream, &history));
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
