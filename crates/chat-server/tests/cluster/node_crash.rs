//! `kill -9` of one node under load, Jepsen-style: writers on every node
//! send numbered texts as fast as acknowledgements come back, readers on
//! every node record what arrives; one node dies mid-run and its clients
//! move to the others (catching up with `since_message_id`). Nothing
//! acknowledged may be lost, duplicated or reordered, for any reader or in
//! the stored history; the dead node's users leave the other nodes'
//! presence within the TTL.

use std::{
    collections::HashSet,
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    harness::{Cluster, HEARTBEAT_MS, PRESENCE_TTL_MS},
    load::{self, END, Expected, Load, ReaderReport, WriterReport, check_against_history, check_stream, check_writers},
};

const ROOM: &str = "jepsen";
const PRESENCE_ROOM: &str = "presence";
const NODES: usize = 3;
const WRITERS: usize = 6;
const READERS: usize = 6;
/// The node that is killed (node 3).
const KILLED: usize = 2;
/// Acknowledged messages before the kill, and again after it.
const BEFORE_KILL: usize = 150;
const AFTER_KILL: usize = 150;
/// Beyond the TTL, how late the dead node's users may leave: a heartbeat
/// interval for the last beat's age, the rest for the check's own period
/// and two busy cores.
const PRESENCE_SLACK: Duration = Duration::from_millis(1_500);
/// Readers of the dead node come back after this, so that their catch-up
/// has something in it.
const READER_BACKOFF: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_a_node_under_load_loses_nothing_acknowledged() {
    let mut cluster = Cluster::start("node_crash", NODES).await;
    let writer_names: Vec<String> = (0..WRITERS).map(|w| format!("writer{w}")).collect();
    let reader_names: Vec<String> = (0..READERS).map(|r| format!("reader{r}")).collect();
    let others = ["ghost", "observer1", "observer2", "closer"];
    let names: Vec<&str> =
        writer_names.iter().chain(&reader_names).map(String::as_str).chain(others.iter().copied()).collect();
    let tokens = cluster.tokens(&names).await;
    let token = |name: &str| tokens[names.iter().position(|n| *n == name).unwrap()].clone();

    // Presence: observers on nodes 1 and 2 see the ghost, who is only on
    // the node that will die.
    let mut observers = Vec::new();
    for (node, name) in [(0, "observer1"), (1, "observer2")] {
        observers.push(cluster.connect_in(node, name, &token(name), PRESENCE_ROOM).await.0);
    }
    let _ghost = cluster.connect_in(KILLED, "ghost", &token("ghost"), PRESENCE_ROOM).await.0;
    for observer in &mut observers {
        observer.expect("user_joined", |p| p["username"] == "ghost" && p["room_id"] == PRESENCE_ROOM).await;
    }

    let load = Load::reconnecting(ROOM, cluster.ws_urls(), WRITERS, READER_BACKOFF);
    let mut readers = Vec::new();
    for (r, name) in reader_names.iter().enumerate() {
        let client = cluster.connect_in(r % NODES, name, &token(name), ROOM).await.0;
        readers.push(tokio::spawn(load::reader(Arc::clone(&load), token(name), client)));
    }
    let mut writers = Vec::new();
    for (w, name) in writer_names.iter().enumerate() {
        let client = cluster.connect_in(w % NODES, name, &token(name), ROOM).await.0;
        writers.push(tokio::spawn(load::writer(Arc::clone(&load), w, token(name), client)));
    }

    load.wait_until("acknowledgements before the kill", Duration::from_secs(30), || load.acked() >= BEFORE_KILL).await;
    let at_kill = load.acked_by();
    load.set_phase(1);
    let killed_at = Instant::now();
    cluster.kill9(KILLED);

    // The ghost's presence goes from nodes 1 and 2 within the TTL.
    let limit = Duration::from_millis(PRESENCE_TTL_MS) + PRESENCE_SLACK;
    let mut presence_times = Vec::new();
    for observer in &mut observers {
        let left = observer
            .expect_within("user_left", limit + Duration::from_secs(10), |p| {
                p["username"] == "ghost" && p["room_id"] == PRESENCE_ROOM
            })
            .await;
        assert!(left.at >= killed_at, "node {}: user_left for the ghost came before the kill", observer.node + 1);
        assert_eq!(left.params()["user_count"], 2, "{:?}", left.value);
        presence_times.push(left.at - killed_at);
    }
    eprintln!(
        "node_crash: the dead node's user left node 1 after {:?} and node 2 after {:?} \
         (heartbeat {HEARTBEAT_MS} ms, TTL {PRESENCE_TTL_MS} ms)",
        presence_times[0], presence_times[1]
    );
    for (i, took) in presence_times.iter().enumerate() {
        assert!(*took <= limit, "node {}: the dead node's user left after {took:?}, more than {limit:?}", i + 1);
    }

    // Load goes on, and every writer, the dead node's included, gets more
    // acknowledged.
    load.wait_until("acknowledgements after the kill, from every writer", Duration::from_secs(30), || {
        let now = load.acked_by();
        load.acked() >= BEFORE_KILL + AFTER_KILL && now.iter().zip(&at_kill).all(|(n, k)| *n >= k + 10)
    })
    .await;
    load.stop();
    let mut writer_reports: Vec<WriterReport> = Vec::new();
    for writer in writers {
        writer_reports.push(tokio::time::timeout(Duration::from_secs(30), writer).await.unwrap().unwrap());
    }
    let mut closer = cluster.connect_in(0, "closer", &token("closer"), ROOM).await.0;
    closer.send(ROOM, END).await;
    let mut reader_reports: Vec<ReaderReport> = Vec::new();
    for reader in readers {
        reader_reports.push(tokio::time::timeout(Duration::from_secs(60), reader).await.unwrap().unwrap());
    }

    // The checker.
    let expected = Expected::new(&writer_reports, &[END]);
    let phases = ["before the kill", "after the kill"];
    let mut problems = check_writers(&writer_reports);
    for w in &writer_reports {
        let moved = w.events.iter().any(|e| e.starts_with("reconnected"));
        if w.writer % NODES == KILLED && !moved {
            problems.push(format!("writer {} was on the killed node and never reconnected: {:?}", w.writer, w.events));
        }
        if !w.refused.is_empty() {
            problems.push(format!("writer {}: error answers: {:?}", w.writer, &w.refused[..w.refused.len().min(5)]));
        }
    }
    let history = load::full_history(&mut closer, ROOM).await;
    problems.extend(check_stream("the stored history", &history, &expected, &phases));
    for r in &reader_reports {
        if !r.finished {
            problems.push(format!("{} never saw the end of the run: {:?}", r.name, r.events));
        }
        problems.extend(check_stream(&r.name, &r.stream, &expected, &phases));
        problems.extend(check_against_history(&r.name, &r.stream, &history));
    }

    let maybe = &expected.maybe;
    eprintln!(
        "node_crash: {} acknowledged ({} before the kill), {} indeterminate ({} of them stored), \
         {} stored in all",
        expected.acked.len(),
        at_kill.iter().sum::<usize>(),
        maybe.len(),
        load::count_among(&history, maybe),
        history.len()
    );
    for r in reader_reports.iter().filter(|r| !r.events.is_empty()) {
        eprintln!("  {}: {:?}", r.name, r.events);
    }
    for w in writer_reports.iter().filter(|w| !w.events.is_empty()) {
        eprintln!("  writer{}: {:?}", w.writer, w.events);
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));

    // Every client that moved is present on the surviving nodes, although
    // the dead node's entries for them expired.
    let mut present: Vec<String> = writer_names.iter().chain(&reader_names).cloned().collect();
    present.push("closer".into());
    present.sort();
    for node in 0..NODES {
        if node == KILLED {
            continue;
        }
        let mut asker = cluster.connect(node, "observer1", &token("observer1")).await;
        let users = asker.ok("list_users", json!({"room_id": ROOM})).await;
        let listed: HashSet<String> =
            users["users"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_owned()).collect();
        let missing: Vec<&String> = present.iter().filter(|u| !listed.contains(*u)).collect();
        assert!(
            missing.is_empty(),
            "node {}: users connected (after moving off the dead node) missing from list_users: {missing:?}",
            node + 1
        );
    }
    drop((writer_reports, reader_reports));
}
