#!/usr/bin/env bash
# Builds the web client (crates/chat-web) into the bundle the server embeds
# and serves at / (crates/chat-server/web/, committed):
#
#   scripts/build-web.sh          rebuild the committed bundle
#   scripts/build-web.sh --check  rebuild elsewhere and fail if the
#                                 committed bundle differs (CI)
#
# Every file but index.html has the first 16 hex digits of its SHA-256 in
# its name, so browsers may cache it for good; compressible files get a
# gzip twin (`name.gz`, made with -n so it carries no timestamp). The build
# is reproducible: the same source gives the same bytes.
#
# Needs the wasm32-unknown-unknown target and wasm-bindgen-cli at the
# version in Cargo.lock (scripts/setup-dev.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
[ "${1:-}" = "--check" ] && check=true

committed=crates/chat-server/web
wanted=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$wanted" ]; then
    echo "wasm-bindgen-cli $wanted is needed (found: ${have:-none}); run scripts/setup-dev.sh" >&2
    exit 1
fi

# Its own target directory: the size-optimised profile shares nothing
# useful with the native builds.
target_dir=${CHAT_WEB_TARGET_DIR:-target/web}
cargo build -p bidirectional-chat-web --lib --target wasm32-unknown-unknown --profile web --locked \
    --target-dir "$target_dir"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$work/bindgen" --out-name chat-web \
    "$target_dir/wasm32-unknown-unknown/web/chat_web.wasm"

out="$work/bundle"
mkdir -p "$out"
hash_of() { sha256sum "$1" | cut -c1-16; }

wasm_name="chat-web-$(hash_of "$work/bindgen/chat-web_bg.wasm")_bg.wasm"
cp "$work/bindgen/chat-web_bg.wasm" "$out/$wasm_name"
js_name="chat-web-$(hash_of "$work/bindgen/chat-web.js").js"
cp "$work/bindgen/chat-web.js" "$out/$js_name"
css_name="style-$(hash_of crates/chat-web/static/style.css).css"
cp crates/chat-web/static/style.css "$out/$css_name"
icon_name="favicon-$(hash_of crates/chat-web/static/favicon.svg).svg"
cp crates/chat-web/static/favicon.svg "$out/$icon_name"
sed -e "s/{{app_js}}/$js_name/g" -e "s/{{app_wasm}}/$wasm_name/g" crates/chat-web/static/boot.js >"$work/boot.js"
boot_name="boot-$(hash_of "$work/boot.js").js"
cp "$work/boot.js" "$out/$boot_name"
sed -e "s/{{app_js}}/$js_name/g" -e "s/{{app_wasm}}/$wasm_name/g" \
    -e "s/{{style_css}}/$css_name/g" -e "s/{{boot_js}}/$boot_name/g" -e "s/{{favicon_svg}}/$icon_name/g" \
    crates/chat-web/static/index.html >"$out/index.html"
for file in "$out"/*; do
    gzip -9 -n -c "$file" >"$file.gz"
done

echo "wasm: $(stat -c %s "$out/$wasm_name") bytes, $(stat -c %s "$out/$wasm_name.gz") gzipped;" \
    "whole bundle gzipped: $(cat "$out"/*.gz | wc -c) bytes"

if $check; then
    if ! diff -r "$committed" "$out" >/dev/null; then
        diff -r "$committed" "$out" | head -n 20 >&2 || true
        echo "the committed web bundle is stale: run scripts/build-web.sh and commit $committed" >&2
        exit 1
    fi
    echo "the committed web bundle matches the source"
else
    rm -rf "$committed"
    cp -r "$out" "$committed"
    echo "wrote $committed"
fi
