#!/usr/bin/env bash
# The web client end to end: the real server and terminal client binaries,
# Debian's Chromium driven by playwright-core (crates/chat-web/e2e). The
# server embeds crates/chat-server/web/, so this tests the committed bundle
# (scripts/build-web.sh --check proves that bundle is the source's).
#
#   scripts/browser-tests.sh                      run every test
#   scripts/browser-tests.sh crates/chat-web/e2e/tests/xss.test.mjs   run some
#   UPDATE_SCREENSHOT=1 scripts/browser-tests.sh  also refresh docs/images/web-client.png
#
# Screenshots, page consoles and server logs of failed tests, and
# main-screen.png, go to $ARTIFACTS (default target/browser-artifacts).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    echo "Chromium is missing at $CHROMIUM: install it with: apt-get install chromium" >&2
    echo "(or point CHROMIUM at another Chromium binary)" >&2
    exit 1
fi
command -v node >/dev/null || { echo "node is missing: install Node.js 20 or later" >&2; exit 1; }

cargo build -p bidirectional-chat-server -p bidirectional-chat-client --locked
target_dir=$(cargo metadata --format-version 1 --no-deps |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')
export CHAT_SERVER_BIN="$target_dir/debug/bidirectional-chat-server"
export CHAT_CLIENT_BIN="$target_dir/debug/bidirectional-chat-client"

# npm ci again when the lock file changed since node_modules was made
# (npm keeps its own copy of the lock inside node_modules).
e2e=crates/chat-web/e2e
installed=$e2e/node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ "$e2e/package-lock.json" -nt "$installed" ]; then
    (cd "$e2e" && npm ci --no-audit --no-fund)
fi

export ARTIFACTS=${ARTIFACTS:-$repo/target/browser-artifacts}
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/*.server.log "$ARTIFACTS"/*.console.log "$ARTIFACTS"/*.png

if [ $# -eq 0 ]; then set -- "$e2e/tests/"; fi
if node --test --test-concurrency=2 "$@"; then
    exit 0
fi
echo "browser tests failed; screenshots and logs are in $ARTIFACTS" >&2
exit 1
