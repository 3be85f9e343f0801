//! Each connection's reading task: handles every complete frame in its
//! buffer in place, telling deliveries from answers by their first bytes.

use std::{cell::RefCell, rc::Rc};

use memchr::memmem;
use tokio::io::AsyncRead;

use super::{send::AckState, shard::Shard};
use crate::{
    tag::{self, StampFinder},
    ws::{FrameReader, OP_CLOSE, OP_PING, OP_TEXT},
};

/// Reads one connection until the socket closes, counting its deliveries
/// as local connection `local`; on a sender's connection (`acks`), also
/// records the answers to its calls.
pub(super) async fn receive<R: AsyncRead + Unpin>(
    mut read: R,
    mut reader: FrameReader,
    local: usize,
    shard: Rc<RefCell<Shard>>,
    acks: Option<Rc<AckState>>,
) {
    let finder = StampFinder::new();
    let why = loop {
        if let Err(e) = handle_buffered(&mut reader, local, &shard, &finder, acks.as_deref()) {
            break e;
        }
        match reader.fill(&mut read).await {
            Ok(0) => break "server closed the TCP connection".to_owned(),
            Ok(_) => {}
            Err(e) => break format!("read failed: {e}"),
        }
    };
    shard.borrow_mut().connection_lost(why);
    if let Some(acks) = acks {
        // Wake a sender waiting for answers that will never come.
        acks.answered.notify_one();
    }
}

/// Handles every complete frame in `reader`. Errors (with the reason) when
/// the server closed the WebSocket.
fn handle_buffered(
    reader: &mut FrameReader,
    local: usize,
    shard: &RefCell<Shard>,
    finder: &StampFinder,
    acks: Option<&AckState>,
) -> Result<(), String> {
    let rx_ns = tag::now_ns();
    let mut shard = shard.borrow_mut();
    let mut closed: Option<String> = None;
    let parsed = reader.frames(|op, payload| match op {
        OP_TEXT => {
            if is_message(payload) {
                if let Some(stamp) = finder.find(payload) {
                    shard.delivery(local, stamp, rx_ns);
                }
            } else if let (Some(acks), Some(id)) = (acks, response_id(payload)) {
                acks.answer(id, is_error(payload).then_some(payload));
            }
        }
        OP_CLOSE => {
            let code = match payload {
                [a, b, ..] => u16::from_be_bytes([*a, *b]),
                _ => 1005,
            };
            let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or_default()).into_owned();
            closed = Some(format!("closed by the server: {code} {reason}"));
        }
        // The server does not ping; a pong would need the write half.
        OP_PING => {}
        _ => {}
    });
    if let Err(e) = parsed {
        return Err(format!("bad frame: {e:#}"));
    }
    closed.map_or(Ok(()), Err)
}

/// The id of a JSON-RPC response (`{"jsonrpc":"2.0","id":N,…`), or `None`
/// for a notification.
pub(super) fn response_id(frame: &[u8]) -> Option<u64> {
    let head = &frame[..frame.len().min(40)];
    let at = memmem::find(head, b"\"id\":")? + 5;
    let digits = frame[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&frame[at..at + digits]).ok()?.parse().ok()
}

pub(super) fn is_error(frame: &[u8]) -> bool {
    memmem::find(frame, b"\"error\":{").is_some()
}

fn is_message(frame: &[u8]) -> bool {
    let head = &frame[..frame.len().min(64)];
    memmem::find(head, b"\"method\":\"message_received\"").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_and_notifications_are_told_apart() {
        let ok = br#"{"jsonrpc":"2.0","id":42,"result":{"message_id":1,"timestamp":"t"}}"#;
        let err = br#"{"jsonrpc":"2.0","id":7,"error":{"code":-32004,"message":"rate limited"}}"#;
        let note = br#"{"jsonrpc":"2.0","method":"message_received","params":{"message_id":1}}"#;
        assert_eq!(response_id(ok), Some(42));
        assert!(!is_error(ok));
        assert_eq!(response_id(err), Some(7));
        assert!(is_error(err));
        assert_eq!(response_id(note), None);
        assert!(is_message(note));
        assert!(!is_message(ok));
    }
}
