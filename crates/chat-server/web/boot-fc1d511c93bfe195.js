// Loads the WebAssembly module; its start function draws the page.
import init from "/chat-web-707e0d6ed2b8f0eb.js";

init({ module_or_path: "/chat-web-8ed8a389d8224264_bg.wasm" });
