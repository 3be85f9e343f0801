// Loads the WebAssembly module; its start function draws the page.
import init from "/{{app_js}}";

init({ module_or_path: "/{{app_wasm}}" });
