//! Messages across nodes: every member receives every message exactly
//! once and in id order, whichever node the sender and the receiver are
//! on; catching up on another node is exact.

use std::{collections::HashSet, sync::Arc};

use serde_json::json;

use crate::{
    client::{WAIT, messages_in},
    harness::Cluster,
    load::{self, END, Expected, Load, check_stream},
};

const ROOM: &str = "relay";
const PER_SENDER: usize = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_member_receives_every_message_once_in_id_order_across_nodes() {
    let cluster = Cluster::start("messages", 3).await;
    let names = ["alpha1", "bravo2", "charlie3"];
    let tokens = cluster.tokens(&names).await;
    let mut clients = Vec::new();
    for (i, name) in names.iter().enumerate() {
        clients.push(cluster.connect_in(i, name, &tokens[i], ROOM).await.0);
    }

    // All three send at once, pipelined, so that sends from the three
    // nodes interleave.
    let [c1, c2, c3] = &mut clients[..] else { unreachable!() };
    let texts = |who: &str| (0..PER_SENDER).map(|n| format!("{who} says {n}")).collect::<Vec<_>>();
    let (t1, t2, t3) = (texts(names[0]), texts(names[1]), texts(names[2]));
    let (ids1, ids2, ids3) = tokio::join!(c1.send_many(ROOM, &t1), c2.send_many(ROOM, &t2), c3.send_many(ROOM, &t3));
    let mut acked: Vec<(i64, String)> = Vec::new();
    for (ids, texts) in [(ids1, t1), (ids2, t2), (ids3, t3)] {
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "one connection's sends got ids out of order: {ids:?}");
        acked.extend(ids.into_iter().zip(texts));
    }
    acked.sort();

    // A last message from node 1 marks the end: everything acknowledged
    // came before it in id order, so each member has it all once this
    // arrives.
    let marker = clients[0].send(ROOM, "marker").await;
    let mut expected: Vec<(i64, String)> = acked.clone();
    expected.push((marker, "marker".to_owned()));
    for client in &mut clients {
        client.expect("message_received", |p| p["message_id"] == marker).await;
        let received = messages_in(&client.take_buffered(), ROOM);
        let mut with_marker = received.clone();
        with_marker.push((marker, "marker".to_owned()));
        assert_eq!(
            with_marker,
            expected,
            "{} on node {} did not receive exactly the acknowledged messages, once each, in id order",
            client.user,
            client.node + 1
        );
    }

    // Catch-up on another node, quiet room: charlie3 leaves node 3, the
    // others write, charlie3 comes back on node 1 with the last id seen.
    let last_seen = marker;
    let charlie = clients.pop().unwrap();
    charlie.hang_up().await;
    let mut missed = Vec::new();
    for (i, client) in clients.iter_mut().enumerate() {
        for n in 0..5 {
            let text = format!("while charlie3 was away {i}.{n}");
            missed.push((client.send(ROOM, &text).await, text));
        }
    }
    let mut charlie = cluster.connect(0, names[2], &tokens[2]).await;
    let joined = charlie.ok("join_room", json!({"room_name": ROOM, "since_message_id": last_seen})).await;
    let recent: Vec<(i64, String)> = joined["recent_messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["message_id"].as_i64().unwrap(), m["text"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(recent, missed, "join_room since {last_seen} on node 1 must return exactly the missed messages");
    let after = clients[1].send(ROOM, "after the catch-up").await;
    charlie.expect("message_received", |p| p["message_id"] == after).await;
    let live = messages_in(&charlie.take_buffered(), ROOM);
    assert!(live.is_empty(), "messages from the catch-up also arrived live (or out of order): {live:?}");

    // Catch-up under traffic: a writer on node 2 keeps sending while
    // charlie3 leaves node 1 and rejoins on node 3; the catch-up and the
    // live messages together must be every message once.
    let last_seen = after;
    let shared = Load::new(ROOM, cluster.ws_urls(), 1);
    let writer_token = cluster.tokens(&["delta4"]).await.remove(0);
    let writer_client = cluster.connect_in(1, "delta4", &writer_token, ROOM).await.0;
    let writer = tokio::spawn(load::writer(Arc::clone(&shared), 0, writer_token, writer_client));
    shared.wait_until("the writer's first acknowledgements", WAIT, || shared.acked() >= 10).await;
    charlie.hang_up().await;
    let acked_before_rejoin = shared.acked();
    let mut charlie = cluster.connect(2, names[2], &tokens[2]).await;
    let joined = charlie.ok("join_room", json!({"room_name": ROOM, "since_message_id": last_seen})).await;
    let acked_at_rejoin = shared.acked();
    shared.wait_until("more acknowledgements after the rejoin", WAIT, || shared.acked() >= acked_at_rejoin + 20).await;
    shared.stop();
    let report = writer.await.unwrap();
    assert!(report.refused.is_empty() && report.indeterminate.is_empty(), "writer: {report:?}");
    let end = clients[0].send(ROOM, END).await;
    charlie.expect("message_received", |p| p["message_id"] == end).await;

    let mut stream: Vec<(i64, String)> = joined["recent_messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["message_id"].as_i64().unwrap(), m["text"].as_str().unwrap().to_owned()))
        .collect();
    let from_catch_up = stream.len();
    stream.extend(messages_in(&charlie.take_buffered(), ROOM));
    let reports = [report];
    let expected = Expected::new(&reports, &[END]);
    let problems = check_stream("charlie3 after rejoining under traffic", &stream, &expected, &["run"]);
    assert!(problems.is_empty(), "{problems:#?}");
    let writer_texts: HashSet<String> = expected.acked.keys().cloned().collect();
    eprintln!(
        "catch-up under traffic: {acked_before_rejoin} acknowledged before the rejoin, {from_catch_up} in the \
         catch-up, {} live, {} in all",
        stream.len() - from_catch_up,
        load::count_among(&stream, &writer_texts)
    );
}
