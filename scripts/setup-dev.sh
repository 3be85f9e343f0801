#!/usr/bin/env bash
# Installs what the full test run needs beyond cargo, once per machine:
# the wasm32 target, wasm-bindgen-cli at exactly the version in Cargo.lock
# (the CLI and the library must match), Debian's Chromium and ChromeDriver,
# and the browser tests' npm packages. Safe to run again: it skips what is
# there. Nothing here downloads a browser from anywhere but Debian.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown

wanted=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$wanted" ]; then
    echo "== installing wasm-bindgen-cli $wanted"
    cargo install wasm-bindgen-cli --version "=$wanted"
fi

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "== installing chromium and chromedriver (Debian packages)"
    if [ "$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium chromium-driver
fi

if [ ! -d crates/chat-web/e2e/node_modules ] \
    || [ crates/chat-web/e2e/package-lock.json -nt crates/chat-web/e2e/node_modules ]; then
    echo "== npm ci (browser tests)"
    (cd crates/chat-web/e2e && npm ci --no-audit --no-fund && touch node_modules)
fi
