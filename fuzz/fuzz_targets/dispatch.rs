//! Frame → JSON-RPC dispatch with the server's real handlers: the exact
//! path a WebSocket text frame takes after the socket (`Dispatcher::handle`
//! with the caller's connection in the extensions), over a real store in a
//! temporary directory. Any panic, any reply that is not a well-formed
//! JSON-RPC response with a contract error code, and any internal error is
//! a finding.

#![no_main]

use std::sync::{Arc, Mutex, OnceLock};

use chat_api::UserName;
use chat_server::{
    app::AppState,
    config::{Config, InitialUser, Secret},
    hub::{Connection, Encoding, Identity, OutboxLimits},
};
use jsonrpsee::Extensions;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

struct Harness {
    runtime: tokio::runtime::Runtime,
    state: AppState,
    ext: Extensions,
    /// Empties the caller's outbox (whatever its item type is).
    drain_outbox: Mutex<Box<dyn FnMut() + Send>>,
    _dir: tempfile_dir::Dir,
}

/// A scratch directory on tmpfs when there is one (fsync is then free).
mod tempfile_dir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Self {
            let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
            let path = std::path::Path::new(base).join(format!("chat-fuzz-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).expect("scratch dir");
            Self(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let dir = tempfile_dir::Dir::new();
        let mut config = Config::for_tests(&dir.0);
        config.admin.demo_accounts = false;
        config.admin.users = vec![
            InitialUser {
                username: "fuzzadmin".into(),
                password: Secret::new("fuzz-password"),
                role: chat_api::Role::Admin,
            },
            InitialUser {
                username: "victim".into(),
                password: Secret::new("fuzz-password"),
                role: chat_api::Role::User,
            },
        ];
        config.chat.default_rooms = vec!["lobby".parse().expect("room name")];
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        let (state, conn, outbox) = runtime.block_on(async {
            let state = AppState::build(config).await.expect("state");
            let admin = state
                .store
                .user_by_name(&UserName::parse("fuzzadmin").expect("name"))
                .await
                .expect("store")
                .expect("seeded admin");
            let identity =
                Identity { user_id: admin.id, username: admin.username, role: admin.role, token_expires_at: i64::MAX };
            let (conn, mut outbox) = Connection::new(
                state.hub.next_conn_id(),
                identity,
                Encoding::JsonRpc,
                OutboxLimits { frames: 1024, bytes: 8 * 1024 * 1024 },
            );
            state.hub.register(&conn);
            let drain: Box<dyn FnMut() + Send> = Box::new(move || while outbox.try_recv().is_ok() {});
            (state, conn, drain)
        });
        let mut ext = Extensions::new();
        ext.insert(Arc::clone(&conn));
        Harness { runtime, state, ext, drain_outbox: Mutex::new(outbox), _dir: dir }
    })
}

const CONTRACT_CODES: &[i64] =
    &[-32700, -32600, -32601, -32602, -32001, -32002, -32003, -32004, -32005, -32006, -32007];

fn check_response(v: &Value, input: &str) {
    assert_eq!(v["jsonrpc"], "2.0", "reply to {input:?}: {v}");
    assert!(v.get("id").is_some(), "reply without id to {input:?}: {v}");
    match (v.get("result"), v.get("error")) {
        (Some(_), None) => {}
        (None, Some(error)) => {
            let code = error["code"].as_i64().unwrap_or_else(|| panic!("error without code: {v}"));
            assert!(CONTRACT_CODES.contains(&code), "code {code} is not a contract code (input {input:?}): {v}");
            assert!(error["message"].is_string(), "{v}");
        }
        _ => panic!("reply to {input:?} is neither a result nor an error: {v}"),
    }
}

fuzz_target!(|data: &[u8]| {
    // tungstenite only hands the server valid UTF-8 text frames.
    let Ok(text) = std::str::from_utf8(data) else { return };
    let h = harness();
    let expired = text.len() % 97 == 13;
    let reply = h.runtime.block_on(h.state.dispatcher.handle(text, &h.ext, expired));
    // Notifications queued for the caller; dropping them keeps the outbox
    // from filling (which would close the connection as "too slow").
    (h.drain_outbox.lock().expect("outbox lock"))();
    let Some(reply) = reply else { return };
    let value: Value = serde_json::from_str(&reply).unwrap_or_else(|e| panic!("reply is not JSON ({e}): {reply}"));
    match &value {
        Value::Array(items) => {
            assert!(!items.is_empty(), "an empty batch reply to {text:?}");
            for item in items {
                check_response(item, text);
            }
        }
        other => check_response(other, text),
    }
});
