//! Point 1: nothing acknowledged is lost when the process is killed with
//! SIGKILL mid-load, several times in a row on the same data directory.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chat_api::{Timestamp, UserName};
use serde_json::json;

use crate::{
    common::{ServerData, ServerProcess, full_history, ws_call, ws_connect},
    load::{Acked, pipelined_sender, verify_history},
};

const CYCLES: usize = 3;
const SENDERS: usize = 4;
const PASSWORD: &str = "crash-test-password";

/// What one cycle's side tasks got acknowledged.
#[derive(Default)]
struct SideWork {
    registered: Vec<String>,
    banned: Vec<String>,
    /// User → (last acknowledged display name, the one sent after it).
    profiles: HashMap<String, (String, Option<String>)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_kill_9_mid_load() {
    let data = ServerData::new().await;
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let mut side = SideWork::default();

    for cycle in 0..CYCLES {
        let server = ServerProcess::start(&data, &[], None).await;
        let so_far = acked.lock().unwrap().clone();
        check_messages(&server, &so_far).await;

        // Accounts for this cycle: senders, ban victims, a profile editor.
        let mut tokens = Vec::new();
        for s in 0..SENDERS {
            tokens.push(server.token(&format!("sender{s}"), PASSWORD).await);
        }
        let victims: Vec<String> = (0..8).map(|v| format!("victim{cycle}x{v}")).collect();
        for v in &victims {
            assert_eq!(server.register(v, PASSWORD).await.unwrap(), 201);
        }
        let moderator = server.login("moderator", "mod123").await.unwrap();
        let editor_name = format!("editor{cycle}");
        let editor = server.token(&editor_name, PASSWORD).await;

        let before = acked.lock().unwrap().len();
        let mut senders = Vec::new();
        for (s, token) in tokens.iter().enumerate() {
            let ws = ws_connect(&server.ws_url(), token).await;
            let acked = Arc::clone(&acked);
            senders.push(tokio::spawn(pipelined_sender(ws, "general".into(), format!("c{cycle}"), s, 8, acked).await));
        }

        let registered: Arc<Mutex<Vec<String>>> = Arc::default();
        let registrar = {
            let registered = Arc::clone(&registered);
            let (url, http) = (server.url("/auth/register"), reqwest::Client::new());
            tokio::spawn(async move {
                for n in 0.. {
                    let name = format!("reg{cycle}x{n}");
                    let body = json!({"username": name, "password": PASSWORD});
                    match http.post(&url).json(&body).send().await {
                        Ok(r) if r.status() == 201 => registered.lock().unwrap().push(name),
                        Ok(r) => panic!("register {name}: {}", r.status()),
                        Err(_) => break,
                    }
                }
            })
        };

        let banned: Arc<Mutex<Vec<String>>> = Arc::default();
        let banner = {
            let banned = Arc::clone(&banned);
            let mut ws = ws_connect(&server.ws_url(), &moderator).await;
            let victims = victims.clone();
            tokio::spawn(async move {
                for (n, victim) in victims.iter().enumerate() {
                    let request = json!({"jsonrpc": "2.0", "id": n, "method": "ban_user",
                        "params": {"target_username": victim, "reason": "crash test"}});
                    let Ok(reply) = send_and_wait(&mut ws, request, n as u64).await else { break };
                    assert_eq!(reply["result"], true, "ban {victim}: {reply}");
                    banned.lock().unwrap().push(victim.clone());
                    tokio::time::sleep(Duration::from_millis(40)).await;
                }
            })
        };

        let profile: Arc<Mutex<(String, Option<String>)>> = Arc::new(Mutex::new((editor_name.clone(), None)));
        let profiler = {
            let profile = Arc::clone(&profile);
            let mut ws = ws_connect(&server.ws_url(), &editor).await;
            tokio::spawn(async move {
                for n in 0u64.. {
                    let name = format!("Editor {cycle}.{n}");
                    profile.lock().unwrap().1 = Some(name.clone());
                    let request = json!({"jsonrpc": "2.0", "id": n, "method": "update_profile",
                        "params": {"display_name": name}});
                    let Ok(reply) = send_and_wait(&mut ws, request, n).await else { break };
                    assert_eq!(reply["result"]["profile"]["display_name"], name.as_str(), "{reply}");
                    *profile.lock().unwrap() = (name, None);
                }
            })
        };

        // Load until every kind of write has been acknowledged a few times,
        // then SIGKILL at a moment that varies per cycle.
        let started = Instant::now();
        loop {
            let messages = acked.lock().unwrap().len() - before;
            let ready = messages >= 300
                && registered.lock().unwrap().len() >= 2
                && banned.lock().unwrap().len() >= 2
                && profile.lock().unwrap().0 != editor_name;
            if ready || started.elapsed() > Duration::from_secs(30) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(7 + 23 * cycle as u64)).await;
        let mut server = server;
        server.kill9();

        for sender in senders {
            let end = crate::support::within("a sender to notice the kill", sender).await.unwrap();
            assert!(end.errors.is_empty(), "send errors under load: {:?}", end.errors);
        }
        for task in [registrar, banner, profiler] {
            crate::support::within("side work to notice the kill", task).await.unwrap();
        }
        let this_cycle = acked.lock().unwrap().len() - before;
        assert!(this_cycle >= 100, "cycle {cycle}: only {this_cycle} messages acknowledged before the kill");
        side.registered.extend(registered.lock().unwrap().iter().cloned());
        side.banned.extend(banned.lock().unwrap().iter().cloned());
        let (editor_last, in_flight) = profile.lock().unwrap().clone();
        side.profiles.insert(editor_name, (editor_last, in_flight));
        eprintln!(
            "cycle {cycle}: {this_cycle} messages, {} registrations, {} bans acknowledged before kill -9",
            registered.lock().unwrap().len(),
            banned.lock().unwrap().len()
        );
    }

    // After the last kill: messages over the wire, the rest from the files.
    let server = ServerProcess::start(&data, &[], None).await;
    let all = acked.lock().unwrap().clone();
    check_messages(&server, &all).await;
    let mut server = server;
    server.kill9();
    check_side_work(&data, &side).await;
}

/// Sends one request and waits for its answer; Err when the connection ends.
async fn send_and_wait(
    ws: &mut crate::support::WsStream,
    request: serde_json::Value,
    id: u64,
) -> Result<serde_json::Value, ()> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    ws.send(Message::text(request.to_string())).await.map_err(|_| ())?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                if v["id"] == json!(id) {
                    return Ok(v);
                }
            }
            Some(Ok(_)) => {}
            _ => return Err(()),
        }
    }
}

async fn check_messages(server: &ServerProcess, acked: &[Acked]) {
    let token = server.login("alice", "alice123").await.unwrap();
    let mut ws = ws_connect(&server.ws_url(), &token).await;
    let joined = ws_call(&mut ws, 1, "join_room", json!({"room_name": "general"})).await;
    assert!(joined.get("result").is_some(), "{joined}");
    let history = full_history(&mut ws, "general").await;
    verify_history(&history, acked, "c");
    // Ids are never reused: a new message gets a higher id than any stored.
    let newest = history.last().map_or(0, |m| m["message_id"].as_i64().unwrap());
    let probe = format!("probe after {newest}");
    let reply = ws_call(&mut ws, 2, "send_message", json!({"room_id": "general", "text": probe})).await;
    assert!(reply["result"]["message_id"].as_i64().unwrap() > newest, "{reply}");
}

async fn check_side_work(data: &ServerData, side: &SideWork) {
    let store = data.store().await;
    for name in &side.registered {
        let user = store.user_by_name(&UserName::parse(name).unwrap()).await.unwrap();
        assert!(user.is_some(), "acknowledged registration of {name} was lost");
    }
    for name in &side.banned {
        let user = store.user_by_name(&UserName::parse(name).unwrap()).await.unwrap().unwrap();
        let ban = store.active_ban(user.id, Timestamp::now()).await.unwrap();
        assert!(ban.is_some(), "acknowledged ban of {name} was lost");
    }
    for (name, (last, in_flight)) in &side.profiles {
        let user = store.user_by_name(&UserName::parse(name).unwrap()).await.unwrap().unwrap();
        let shown = user.display_name.as_str();
        assert!(
            shown == last || Some(shown) == in_flight.as_deref(),
            "{name}: display name {shown:?}, but {last:?} was acknowledged (in flight: {in_flight:?})"
        );
    }
    store.close().await;
}
