//! `bidirectional-chat-client`, the terminal client of bidirectional-chat. The front end
//! lives in `tui/`; the connection logic is the `chat_client` library.

mod tui;

fn main() -> std::process::ExitCode {
    tui::main()
}
