// Loads the WebAssembly module; its start function draws the page.
import init from "/chat-web-874a6f54ef146758.js";

init({ module_or_path: "/chat-web-44065f0ab3b0a283_bg.wasm" });
