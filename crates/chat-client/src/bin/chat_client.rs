//! `chat_client`: talks to the plain-text WebSocket (`/ws/text`).
//!
//! ```text
//! chat_client SERVER TOKEN [ROOM]
//! ```
//!
//! Every line read from standard input is sent as a message to the room;
//! every frame the server sends is printed on its own line on standard
//! output. It ends when standard input ends (after closing the connection
//! politely) or when the server closes, whose close code and reason go to
//! standard error. Exit code 0 after a normal close, 1 otherwise.

use std::process::ExitCode;

use anyhow::{Context, bail};
use chat_client::ServerUrl;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::{Message, protocol::CloseFrame};

const USAGE: &str =
    "usage: chat_client SERVER TOKEN [ROOM]\n  e.g. chat_client http://localhost:3000 \"$TOKEN\" general";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("chat_client: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (server, token, room) = match args.as_slice() {
        [server, token] => (server, token, None),
        [server, token, room] => (server, token, Some(room.as_str())),
        _ => bail!("{USAGE}"),
    };
    let url = ServerUrl::parse(server)?.text_websocket(token, room);
    let (socket, _) = tokio_tungstenite::connect_async(url.as_str()).await.map_err(|e| match e {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            anyhow::anyhow!("the server refused the connection: HTTP {}", response.status())
        }
        other => anyhow::Error::new(other).context("cannot connect"),
    })?;
    let (mut outgoing, mut incoming) = socket.split();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;

    loop {
        tokio::select! {
            line = lines.next_line(), if stdin_open => match line.context("reading standard input")? {
                Some(line) if line.trim().is_empty() => {}
                Some(line) => outgoing.send(Message::text(line)).await.context("sending")?,
                None => {
                    // Input is done: ask the server to close and wait for it.
                    stdin_open = false;
                    outgoing.send(Message::Close(None)).await.context("closing")?;
                }
            },
            frame = incoming.next() => match frame {
                Some(Ok(Message::Text(text))) => println!("{text}"),
                Some(Ok(Message::Close(frame))) => return Ok(report_close(frame)),
                Some(Ok(_)) => {}
                Some(Err(e)) => bail!("connection lost: {e}"),
                None => bail!("connection lost"),
            },
        }
    }
}

fn report_close(frame: Option<CloseFrame>) -> ExitCode {
    let Some(frame) = frame else { return ExitCode::SUCCESS };
    let code = u16::from(frame.code);
    if frame.reason.is_empty() {
        eprintln!("closed by the server ({code})");
    } else {
        eprintln!("closed by the server ({code}): {}", frame.reason);
    }
    if code == 1000 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
