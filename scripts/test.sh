#!/usr/bin/env bash
# Every test: the workspace's Rust tests, the server's integration suites
# a second time on PostgreSQL, the 3-node cluster suite, the client library in headless Chromium, the
# freshness of the committed web bundle, and the web client end to end in
# Chromium. Run scripts/setup-dev.sh once first; the second pass and the
# cluster suite need a PostgreSQL server that lets its user create
# databases (CHAT_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432),
# and the cluster suite the nats-server binary (on PATH or /usr/sbin).
set -euo pipefail
cd "$(dirname "$0")/.."

postgres=${CHAT_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432}
# Found out now rather than after the first pass.
CHAT_TEST_POSTGRES=$postgres scripts/pg-test-db.sh ready

echo "== cargo test --workspace (storage: SQLite)"
env -u CHAT_TEST_POSTGRES cargo test --workspace --locked

echo "== the server's integration suites again, on PostgreSQL ($postgres): a fresh database per test server"
# Database names start with chat_test_<run>_; whatever a crashed or
# interrupted test left behind is dropped on the way out.
run="$(date +%Y%m%d%H%M%S)_$$"
skipped=$(mktemp)
trap 'CHAT_TEST_POSTGRES=$postgres scripts/pg-test-db.sh drop "$run" || true; rm -f "$skipped"' EXIT
status=0
CHAT_TEST_POSTGRES=$postgres CHAT_TEST_RUN=$run CHAT_TEST_SKIPPED=$skipped \
    cargo test --workspace --locked --no-fail-fast --test api --test adversarial || status=$?
if [ -s "$skipped" ]; then
    echo "-- $(wc -l <"$skipped") test(s) are about SQLite files and were skipped on PostgreSQL:"
    sed 's/^skipped on postgres: /   /' "$skipped"
fi
if [ "$status" -ne 0 ]; then
    echo "error: the PostgreSQL pass failed (the SQLite pass above passed)" >&2
    exit "$status"
fi

echo "== the cluster suite: three server processes sharing PostgreSQL and their own nats-server"
# Kept out of the first pass (test = false): it needs PostgreSQL and
# nats-server. Its databases use the same chat_test_<run>_ prefix.
CHAT_TEST_POSTGRES=$postgres CHAT_TEST_RUN=$run cargo test --workspace --locked --test cluster

echo "== the client library in a browser (wasm-bindgen-test)"
scripts/wasm-tests.sh

echo "== the committed web bundle is built from this source"
scripts/build-web.sh --check

echo "== the web client end to end (Playwright, Chromium)"
scripts/browser-tests.sh
