//! NATS dies mid-traffic and comes back on the same port. The nodes
//! reconnect; every message acknowledged before, during and after the
//! outage reaches every reader exactly once and in order (what NATS never
//! carried is recovered from PostgreSQL), and presence heals.

use std::{
    collections::BTreeSet,
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    harness::Cluster,
    load::{self, END, Expected, Load, check_against_history, check_stream, check_writers},
};

const ROOM: &str = "through-nats";
const NODES: usize = 3;
const WRITERS: usize = 3;
const READERS: usize = 3;
const BEFORE: usize = 100;
/// The outage lasts at least this long (longer than the presence TTL, so
/// every node also believes the others dead for a while).
const OUTAGE: Duration = Duration::from_millis(1_500);
const AFTER: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_mid_traffic_loses_and_duplicates_nothing() {
    let mut cluster = Cluster::start("nats_restart", NODES).await;
    let writer_names: Vec<String> = (0..WRITERS).map(|w| format!("writer{w}")).collect();
    let reader_names: Vec<String> = (0..READERS).map(|r| format!("reader{r}")).collect();
    let names: Vec<&str> = writer_names.iter().chain(&reader_names).map(String::as_str).chain(["closer"]).collect();
    let tokens = cluster.tokens(&names).await;
    let token = |name: &str| tokens[names.iter().position(|n| *n == name).unwrap()].clone();

    // Readers do not reconnect: the nodes must not drop their clients
    // because NATS went away.
    let load = Load::new(ROOM, cluster.ws_urls(), WRITERS);
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

    load.wait_until("acknowledgements before the outage", Duration::from_secs(30), || load.acked() >= BEFORE).await;
    load.set_phase(1);
    let at_kill = load.acked();
    let killed_at = Instant::now();
    cluster.nats().kill9();
    while killed_at.elapsed() < OUTAGE {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let during = load.acked() - at_kill;
    load.set_phase(2);
    cluster.nats().restart().await;
    let restarted_at = Instant::now();
    let at_restart = load.acked();
    load.wait_until("acknowledgements after the restart", Duration::from_secs(30), || {
        load.acked() >= at_restart + AFTER
    })
    .await;
    load.stop();
    let mut writer_reports = Vec::new();
    for writer in writers {
        writer_reports.push(tokio::time::timeout(Duration::from_secs(30), writer).await.unwrap().unwrap());
    }
    let mut closer = cluster.connect_in(0, "closer", &token("closer"), ROOM).await.0;
    closer.send(ROOM, END).await;
    let mut reader_reports = Vec::new();
    for reader in readers {
        reader_reports.push(tokio::time::timeout(Duration::from_secs(60), reader).await.unwrap().unwrap());
    }
    eprintln!(
        "nats_restart: {at_kill} acknowledged before the outage, {during} during it ({:?}), {} after the restart; \
         readers done {:?} after the restart",
        restarted_at - killed_at,
        load.acked() - at_restart,
        restarted_at.elapsed()
    );

    let expected = Expected::new(&writer_reports, &[END]);
    let phases = ["before the outage", "during the outage", "after the restart"];
    let mut problems = check_writers(&writer_reports);
    for w in &writer_reports {
        if !w.events.is_empty() || !w.refused.is_empty() {
            problems.push(format!(
                "writer {} (node {}): sends failed: {:?} {:?}",
                w.writer,
                w.writer % NODES + 1,
                w.events,
                &w.refused[..w.refused.len().min(5)]
            ));
        }
    }
    if during == 0 {
        problems.push("no send was acknowledged while NATS was down (PostgreSQL was up)".into());
    }
    let history = load::full_history(&mut closer, ROOM).await;
    problems.extend(check_stream("the stored history", &history, &expected, &phases));
    for r in &reader_reports {
        if !r.finished || !r.events.is_empty() {
            problems.push(format!("{} did not read to the end: {:?}", r.name, r.events));
        }
        problems.extend(check_stream(&r.name, &r.stream, &expected, &phases));
        problems.extend(check_against_history(&r.name, &r.stream, &history));
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));

    // Presence heals: every node lists everyone still connected.
    let mut everyone: BTreeSet<String> = writer_names.iter().chain(&reader_names).cloned().collect();
    everyone.insert("closer".into());
    let mut askers = Vec::new();
    for node in 0..NODES {
        askers.push(cluster.connect(node, "closer", &token("closer")).await);
    }
    let healed_by = Instant::now() + Duration::from_secs(10);
    for asker in &mut askers {
        loop {
            let users = asker.ok("list_users", json!({"room_id": ROOM})).await;
            let listed: BTreeSet<String> =
                users["users"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_owned()).collect();
            if listed == everyone {
                break;
            }
            assert!(
                Instant::now() < healed_by,
                "node {}: presence did not heal after the NATS restart: lists {listed:?}, connected {everyone:?}",
                asker.node + 1
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    eprintln!("nats_restart: presence consistent on every node {:?} after the restart", restarted_at.elapsed());
    drop((writer_reports, reader_reports));
}
