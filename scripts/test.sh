#!/usr/bin/env bash
# Every test: the workspace's Rust tests, the client library in headless
# Chromium, the freshness of the committed web bundle, and the web client
# end to end in Chromium. Run scripts/setup-dev.sh once first.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test --workspace"
cargo test --workspace --locked

echo "== the client library in a browser (wasm-bindgen-test)"
scripts/wasm-tests.sh

echo "== the committed web bundle is built from this source"
scripts/build-web.sh --check

echo "== the web client end to end (Playwright, Chromium)"
scripts/browser-tests.sh
