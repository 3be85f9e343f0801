//! Frame → JSON-RPC dispatch with the server's real handlers: the exact
//! path a WebSocket text frame takes after the socket, over a real store in
//! a temporary directory (`chat_server::fuzzing`). Any panic, any reply
//! that is not a well-formed JSON-RPC response with a contract error code,
//! and any internal error is a finding.

#![no_main]

use std::sync::OnceLock;

use chat_server::fuzzing::DispatchHarness;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

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

struct Harness {
    dispatch: DispatchHarness,
    _dir: tempfile_dir::Dir,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let dir = tempfile_dir::Dir::new();
        let dispatch = DispatchHarness::new(&dir.0).expect("harness");
        Harness { dispatch, _dir: dir }
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
    let Some(reply) = harness().dispatch.handle(text) else { return };
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
