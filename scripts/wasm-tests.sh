#!/usr/bin/env bash
# The client library compiled to WebAssembly, tested in headless Chromium
# against a real server (crates/chat-client/tests/browser.rs).
#
# Needs: the wasm32-unknown-unknown target, wasm-bindgen-test-runner (from
# wasm-bindgen-cli, the version in Cargo.lock), chromium and chromedriver.
# scripts/setup-dev.sh installs them.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in wasm-bindgen-test-runner chromedriver; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: run scripts/setup-dev.sh" >&2; exit 1; }
done

cargo build -p bidirectional-chat-server --locked
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# The test page is served by the runner from its own origin, so the server
# admits any origin here; rate limits are off as in the other suites.
HOST=127.0.0.1 PORT=0 CHAT_DATA_DIR="$work/data" JWT_SECRET="$(head -c 32 /dev/urandom | base64)" \
    CHAT__SERVER__CORS='*' CHAT__RATE_LIMIT__ENABLED=false CHAT__LOGGING__FORMAT=compact RUST_LOG=info \
    "$target_dir/debug/bidirectional-chat-server" >"$work/server.log" 2>&1 &
server_pid=$!

address=
for _ in $(seq 1 300); do
    address=$(sed 's/\x1b\[[0-9;]*m//g' "$work/server.log" 2>/dev/null \
        | grep -o 'listening address=[0-9.]*:[0-9]*' | head -n1 | cut -d= -f2 || true)
    [ -n "$address" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$address" ] || { echo "the server did not say where it listens" >&2; cat "$work/server.log" >&2; exit 1; }

# webdriver.json beside the crate gives Chromium the flags it needs here.
CHAT_TEST_SERVER="http://$address" \
    CHROMEDRIVER="$(command -v chromedriver)" \
    WASM_BINDGEN_TEST_TIMEOUT=120 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test -p bidirectional-chat-client --no-default-features --target wasm32-unknown-unknown --locked --test browser
