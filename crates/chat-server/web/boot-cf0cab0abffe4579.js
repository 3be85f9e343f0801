// Loads the WebAssembly module; its start function draws the page.
import init from "/chat-web-1c00b54f294e8a8d.js";

init({ module_or_path: "/chat-web-9a6feb4bf4c6e5d7_bg.wasm" });
