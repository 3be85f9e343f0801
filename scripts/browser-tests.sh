#!/usr/bin/env bash
# The web client end to end: the real server and terminal client binaries,
# Debian's Chromium driven by playwright-core (crates/chat-web/e2e). The
# server embeds crates/chat-server/web/, so this tests the committed bundle
# (scripts/build-web.sh --check proves that bundle is the source's).
#
#   scripts/browser-tests.sh                      run every test
#   UPDATE_SCREENSHOT=1 scripts/browser-tests.sh  also refresh docs/images/web-client.png
#
# Screenshots and server logs go to target/browser-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    echo "Chromium is missing at $chromium: install it with 'apt-get install chromium' (or run scripts/setup-dev.sh)" >&2
    exit 1
fi

cargo build -p bidirectional-chat-server -p bidirectional-chat-client --locked
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export CHAT_SERVER_BIN="$target_dir/debug/bidirectional-chat-server"
export CHAT_CLIENT_BIN="$target_dir/debug/bidirectional-chat-client"

e2e=crates/chat-web/e2e
if [ ! -d "$e2e/node_modules/playwright-core" ] || [ "$e2e/package-lock.json" -nt "$e2e/node_modules" ]; then
    (cd "$e2e" && npm ci --no-audit --no-fund && touch node_modules)
fi

rm -rf target/browser-artifacts
cd "$e2e"
node --test --test-concurrency=2 tests/
