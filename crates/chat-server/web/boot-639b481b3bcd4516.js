// Loads the WebAssembly module; its start function draws the page.
import init from "/chat-web-f1a2469fdbee2c33.js";

init({ module_or_path: "/chat-web-e52c209a982f01f4_bg.wasm" });
