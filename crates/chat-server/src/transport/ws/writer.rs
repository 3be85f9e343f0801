//! The writer task: drains a connection's outbox into its socket.
//!
//! Whatever is queued is written as one batch and flushed once, so a busy
//! connection costs one syscall per batch rather than per frame. Every
//! write is bounded by the write timeout: a peer that stops reading is
//! dropped, never waited for.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use chat_api::CloseCode;
use futures_util::{SinkExt, stream::SplitSink};

use crate::hub::{Connection, OutboxEvent};

/// Most frames written before a flush.
const MAX_FRAMES_PER_FLUSH: usize = 256;

type Sink = SplitSink<WebSocket, Message>;

pub(super) async fn run(mut sink: Sink, conn: Arc<Connection>, timeout: Duration) {
    let outbox = conn.outbox();
    // The frames of one write; its buffer is swapped with the outbox's, so
    // neither is allocated again while the connection is busy.
    let mut batch: VecDeque<Utf8Bytes> = VecDeque::new();
    // The outbox wakes this loop for frames and for the close request alike.
    while outbox.ready().await == OutboxEvent::Frames {
        // Let the other ready tasks run once before writing: under load
        // more frames arrive meanwhile and share this write.
        tokio::task::yield_now().await;
        outbox.take(&mut batch, MAX_FRAMES_PER_FLUSH);
        let written = tokio::time::timeout(timeout, write_batch(&mut sink, &mut batch)).await;
        match written {
            Ok(Ok(())) => {}
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
            batch.clear();
            outbox.take(&mut batch, usize::MAX);
            for frame in batch.drain(..) {
                sink.feed(Message::Text(frame)).await?;
            }
        }
        let close = CloseFrame { code: reason.code.code(), reason: reason.reason.into() };
        sink.send(Message::Close(Some(close))).await
    };
    // Errors here mean the peer is gone; there is nobody left to tell.
    let _ = tokio::time::timeout(timeout, goodbye).await;
}

/// Writes the batch's frames, emptying it, and flushes once.
async fn write_batch(sink: &mut Sink, batch: &mut VecDeque<Utf8Bytes>) -> Result<(), axum::Error> {
    while let Some(frame) = batch.pop_front() {
        sink.feed(Message::Text(frame)).await?;
    }
    sink.flush().await
}
