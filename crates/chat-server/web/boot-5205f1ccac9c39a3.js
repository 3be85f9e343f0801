// Loads the WebAssembly module; its start function draws the page.
import init from "/chat-web-7f66767d2700d4ce.js";

init({ module_or_path: "/chat-web-e6a82c4d63939361_bg.wasm" });
