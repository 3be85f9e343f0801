// Loads the WebAssembly module; its start function draws the page.
import init from "/chat-web-1c00b54f294e8a8d.js";

init({ module_or_path: "/chat-web-af9781f00cb751fd_bg.wasm" });
