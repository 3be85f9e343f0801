// Loads the WebAssembly module; its start function draws the page.
import init from "/chat-web-985f90234ec8fba3.js";

init({ module_or_path: "/chat-web-27998bfb0bf49ee2_bg.wasm" });
