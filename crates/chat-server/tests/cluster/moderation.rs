//! Moderation across nodes: a kick or a ban issued on node 1 closes every
//! connection of the target on the other nodes; a banned user cannot
//! connect to, or log in on, any node; a role change holds on every node.

use serde_json::json;

use crate::{client::WAIT, harness::Cluster};

const ROOM: &str = "townhall";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kicks_bans_and_roles_hold_on_every_node() {
    let cluster = Cluster::start("moderation", 3).await;
    let names = ["target", "witness", "promoted", "bystander"];
    let tokens = cluster.tokens(&names).await;
    let (target, witness, promoted, bystander) = (&tokens[0], &tokens[1], &tokens[2], &tokens[3]);
    let moderator = cluster.demo_token("moderator", "mod123").await;
    let admin = cluster.demo_token("admin", "admin123").await;
    let mut moderator = cluster.connect(0, "moderator", &moderator).await;
    let (mut witness1, _) = cluster.connect_in(0, "witness", witness, ROOM).await;

    // The target holds three connections: two on node 2, one on node 3,
    // none on node 1, where the kick is issued.
    let mut targets = Vec::new();
    for node in [1, 1, 2] {
        targets.push(cluster.connect_in(node, "target", target, ROOM).await.0);
    }
    witness1.expect("user_joined", |p| p["username"] == "target").await;
    let kicked = moderator.ok("kick_user", json!({"target_username": "target", "reason": "cluster kick"})).await;
    for t in &mut targets {
        let told = t.expect("user_kicked", |p| p["username"] == "target" && p["room_id"].is_null()).await;
        assert_eq!(told.params()["reason"], "cluster kick");
        let close = t.closed_within(WAIT).await;
        assert_eq!(close.as_ref().map(|c| c.0), Some(4001), "kicked connection on node {}: {close:?}", t.node + 1);
    }
    witness1.expect("user_kicked", |p| p["username"] == "target" && p["room_id"] == ROOM).await;
    witness1.expect("user_left", |p| p == &json!({"room_id": ROOM, "username": "target", "user_count": 1})).await;
    // Its answer is checked at the end, so that a wrong one does not hide
    // what the rest of the test would find.
    let mut problems = Vec::new();
    if kicked != json!(true) {
        note(
            &mut problems,
            Some(format!(
                "kick_user answered {kicked}, not true, although the target was online (three connections, on \
             nodes 2 and 3) and all three were kicked"
            )),
        );
    }

    // A kicked user may come back, on any node; then a ban from node 1
    // closes them everywhere with 4003.
    let mut targets = Vec::new();
    for node in [1, 2, 2] {
        targets.push(cluster.connect_in(node, "target", target, ROOM).await.0);
    }
    witness1.expect("user_joined", |p| p["username"] == "target").await;
    let banned = moderator.ok("ban_user", json!({"target_username": "target", "reason": "cluster ban"})).await;
    assert_eq!(banned, json!(true));
    for t in &mut targets {
        let close = t.closed_within(WAIT).await;
        assert_eq!(close.as_ref().map(|c| c.0), Some(4003), "banned connection on node {}: {close:?}", t.node + 1);
    }
    witness1.expect("user_left", |p| p == &json!({"room_id": ROOM, "username": "target", "user_count": 1})).await;
    for node in 0..3 {
        let status = cluster.refused_status(node, "target", target).await;
        assert_eq!(status, Some(403), "a banned user's handshake on node {}", node + 1);
        let login = cluster.login(node, "target", crate::harness::PASSWORD).await;
        assert_eq!(
            login.as_ref().err().map(|e| e.0),
            Some(403),
            "a banned user's login on node {}: {login:?}",
            node + 1
        );
    }
    // Lifted on node 3, it is lifted on node 1.
    let mut moderator3 = cluster.connect(2, "moderator", &cluster.demo_token("moderator", "mod123").await).await;
    assert_eq!(moderator3.ok("unban_user", json!({"target_username": "target"})).await, json!(true));
    assert_eq!(cluster.refused_status(0, "target", target).await, None, "unbanned on node 3, refused on node 1");

    // A promotion on node 1 holds at once for the user's connection on
    // node 2, and so does the demotion.
    let mut admin1 = cluster.connect(0, "admin", &admin).await;
    let mut promoted2 = cluster.connect(1, "promoted", promoted).await;
    let (mut bystander3, _) = cluster.connect_in(2, "bystander", bystander, ROOM).await;
    let before = promoted2.err("kick_user", json!({"target_username": "bystander", "reason": "not yet"})).await;
    assert_eq!(before["code"], -32002, "a plain user cannot kick: {before}");
    admin1.ok("set_role", json!({"username": "promoted", "role": "moderator"})).await;
    let kicked = promoted2.ok("kick_user", json!({"target_username": "bystander", "reason": "promoted"})).await;
    let close = bystander3.closed_within(WAIT).await;
    assert_eq!(close.map(|c| c.0), Some(4001), "promoted on node 1, the kick from node 2 reaches node 3");
    if kicked != json!(true) {
        note(
            &mut problems,
            Some(format!(
                "kick_user from node 2 answered {kicked}, not true, although it kicked the bystander on node 3"
            )),
        );
    }
    let profile = cluster.connect(2, "witness", witness).await.ok("get_profile", json!({"username": "promoted"})).await;
    assert_eq!(profile["profile"]["role"], "moderator", "the new role as node 3 reads it");
    admin1.ok("set_role", json!({"username": "promoted", "role": "user"})).await;
    let after = promoted2.err("kick_user", json!({"target_username": "witness", "reason": "demoted"})).await;
    assert_eq!(after["code"], -32002, "demoted on node 1, refused on node 2 at once: {after}");
    assert!(!witness1.is_closed(), "the witness must not have been kicked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Keeps a problem for the end of the test, and prints it now in case a
/// later step fails first.
fn note(problems: &mut Vec<String>, problem: Option<String>) {
    if let Some(problem) = problem {
        eprintln!("problem: {problem}");
        problems.push(problem);
    }
}
