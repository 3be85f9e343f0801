//! The writer task: drains a connection's outbox into its socket.
//!
//! Whatever is queued is written as one batch and flushed once, so a busy
//! connection costs one syscall per batch rather than per frame. Every
//! write is bounded by the write timeout: a peer that stops reading is
//! dropped, never waited for.

use std::{sync::Arc, time::Duration};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use chat_api::CloseCode;
use futures_util::{SinkExt, stream::SplitSink};
use tokio::sync::mpsc;

use crate::hub::Connection;

/// Most frames written before a flush.
const MAX_FRAMES_PER_FLUSH: usize = 256;

type Sink = SplitSink<WebSocket, Message>;

pub(super) async fn run(
    mut sink: Sink,
    mut outbox: mpsc::Receiver<Utf8Bytes>,
    conn: Arc<Connection>,
    timeout: Duration,
) {
    // One future for the whole loop: making a fresh one per frame would
    // register and unregister a waiter on the close signal every time.
    let closed = conn.closed();
    tokio::pin!(closed);
    loop {
        tokio::select! {
            biased;
            () = &mut closed => break,
            frame = outbox.recv() => {
                let Some(frame) = frame else { return };
                // Let the other ready tasks run once before writing: under
                // load more frames arrive meanwhile and share this write.
                tokio::task::yield_now().await;
                let written = tokio::time::timeout(timeout, write_batch(&mut sink, frame, &mut outbox)).await;
                match written {
                    Ok(Ok(bytes)) => conn.written(bytes),
                    Ok(Err(_)) => {
                        // The peer is gone; not its fault, and no one to tell.
                        conn.close(CloseCode::Normal, "connection lost");
                        return;
                    }
                    Err(_) => {
                        conn.close(CloseCode::TooSlow, "too slow: write timed out");
                        return;
                    }
                }
            }
        }
    }
    let Some(reason) = conn.close_reason().cloned() else { return };
    if reason.code == CloseCode::Normal {
        // The client closed first: tungstenite has queued the reply to its
        // close frame, and nothing else may follow it. Send just that.
        let _ = tokio::time::timeout(timeout, sink.flush()).await;
        return;
    }
    let goodbye = async {
        // A client closed for being slow gets no backlog; anyone else gets
        // what was queued before the close (e.g. the kick notice).
        if reason.code != CloseCode::TooSlow {
            while let Ok(frame) = outbox.try_recv() {
                sink.feed(Message::Text(frame)).await?;
            }
        }
        let close = CloseFrame { code: reason.code.code(), reason: reason.reason.into() };
        sink.send(Message::Close(Some(close))).await
    };
    // Errors here mean the peer is gone; there is nobody left to tell.
    let _ = tokio::time::timeout(timeout, goodbye).await;
}

/// Writes `first` and whatever else is queued, flushes once, and returns
/// the bytes written.
async fn write_batch(
    sink: &mut Sink,
    first: Utf8Bytes,
    outbox: &mut mpsc::Receiver<Utf8Bytes>,
) -> Result<usize, axum::Error> {
    let mut bytes = first.len();
    sink.feed(Message::Text(first)).await?;
    for _ in 1..MAX_FRAMES_PER_FLUSH {
        match outbox.try_recv() {
            Ok(frame) => {
                bytes += frame.len();
                sink.feed(Message::Text(frame)).await?;
            }
            Err(_) => break,
        }
    }
    sink.flush().await?;
    Ok(bytes)
}
