//! A connection's frames waiting for its socket.
//!
//! Publishers push under a short lock and never wait. The writer task takes
//! everything queued in one go: one lock per written batch rather than a
//! channel operation and a permit per frame, which matters when one message
//! fans out to thousands of outboxes. The queue is bounded in frames and in
//! bytes; a push beyond either is refused, and the connection is then
//! closed as too slow.
//!
//! The byte budget also covers answers not queued yet: a JSON-RPC batch is
//! answered by one frame, so its answers are *held* while the batch runs.
//! Before each request the batch waits until the next answer fits beside
//! what is queued and held (the writer taking frames makes room, so a
//! client is paced by its own reading), and stops running requests once
//! its own held answers leave no room. Without that, one small frame
//! asking for fifty large pages built a 160 MB answer outside every bound.
//!
//! The outbox also carries the connection's close request to the writer,
//! so a woken writer looks at one thing, not two.
//!
//! An empty outbox owns no buffer, so idle connections cost nothing here.

use std::{
    collections::VecDeque,
    future::poll_fn,
    pin::pin,
    sync::atomic::{AtomicBool, Ordering},
    task::{Context, Poll},
};

use axum::extract::ws::Utf8Bytes;
use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use tokio::sync::Notify;

/// How much may wait in one connection's outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutboxLimits {
    /// Most frames queued.
    pub frames: usize,
    /// Most bytes queued.
    pub bytes: usize,
}

/// The outbox is at one of its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OutboxFull;

/// What a waiting writer woke up for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutboxEvent {
    /// Frames are queued.
    Frames,
    /// The connection is closing (this wins over queued frames).
    Closing,
}

#[derive(Debug)]
pub(crate) struct Outbox {
    limits: OutboxLimits,
    queue: Mutex<Queue>,
    /// Set once, when the connection is asked to close.
    closing: AtomicBool,
    /// The writer, when it waits.
    writer: AtomicWaker,
    /// Batches waiting for the writer to take what is queued.
    taken: Notify,
}

#[derive(Debug, Default)]
struct Queue {
    frames: VecDeque<Utf8Bytes>,
    bytes: usize,
    /// Bytes of answers being assembled for this connection, not queued yet.
    held: usize,
    /// A batch waits for the writer to take (so taking must wake it).
    batch_waiting: bool,
}

impl Outbox {
    pub(super) fn new(limits: OutboxLimits) -> Self {
        Self {
            limits,
            queue: Mutex::default(),
            closing: AtomicBool::new(false),
            writer: AtomicWaker::new(),
            taken: Notify::new(),
        }
    }

    /// Queues a frame, or refuses it when the outbox is full. A single frame
    /// over the byte budget still goes out when nothing else waits.
    pub(super) fn push(&self, frame: Utf8Bytes) -> Result<(), OutboxFull> {
        {
            let mut queue = self.queue.lock();
            let empty = queue.frames.is_empty();
            let over_bytes = queue.bytes + frame.len() > self.limits.bytes && !empty;
            if over_bytes || queue.frames.len() >= self.limits.frames {
                return Err(OutboxFull);
            }
            queue.bytes += frame.len();
            queue.frames.push_back(frame);
            if !empty {
                // The writer was told when the first frame arrived.
                return Ok(());
            }
        }
        self.writer.wake();
        Ok(())
    }

    /// Waits until another answer of about `next` bytes fits beside what
    /// is queued and held (or nothing is queued or held: one answer alone
    /// may exceed the budget, like one frame), and returns true. Returns
    /// false at once when the held answers alone leave no room: waiting for
    /// the writer cannot help, since they are queued only when complete.
    /// A connection whose writer never takes again is closed by its write
    /// timeout, which ends the wait with the call.
    /// Also false once the connection is closing: its answers will never be
    /// sent, and the batch must not wait for a writer that may be gone.
    pub(super) async fn room_for(&self, next: usize) -> bool {
        loop {
            let mut taken = pin!(self.taken.notified());
            // Registered before looking, so a take in between is not missed.
            taken.as_mut().enable();
            if self.closing.load(Ordering::Acquire) {
                return false;
            }
            {
                let mut queue = self.queue.lock();
                let used = queue.bytes + queue.held;
                if used == 0 || used + next <= self.limits.bytes {
                    queue.batch_waiting = false;
                    return true;
                }
                if queue.bytes == 0 {
                    queue.batch_waiting = false;
                    return false;
                }
                queue.batch_waiting = true;
            }
            taken.await;
        }
    }

    /// Counts `bytes` of an answer being assembled against the budget.
    pub(super) fn hold(&self, bytes: usize) {
        self.queue.lock().held += bytes;
    }

    /// Stops counting `bytes` held by [`hold`](Self::hold).
    pub(super) fn release(&self, bytes: usize) {
        let mut queue = self.queue.lock();
        queue.held = queue.held.saturating_sub(bytes);
    }

    /// Tells the writer to stop waiting for frames.
    pub(super) fn close(&self) {
        self.closing.store(true, Ordering::Release);
        self.writer.wake();
        self.taken.notify_waiters();
    }

    /// Waits until a frame is queued or the connection is closing.
    pub(crate) async fn ready(&self) -> OutboxEvent {
        poll_fn(|cx| self.poll_ready(cx)).await
    }

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<OutboxEvent> {
        if let Some(wake) = self.wake_reason() {
            return Poll::Ready(wake);
        }
        self.writer.register(cx.waker());
        // A push or close between the look and the registration would have
        // found no waker to wake; look again.
        self.wake_reason().map_or(Poll::Pending, Poll::Ready)
    }

    fn wake_reason(&self) -> Option<OutboxEvent> {
        if self.closing.load(Ordering::Acquire) {
            Some(OutboxEvent::Closing)
        } else if self.queue.lock().frames.is_empty() {
            None
        } else {
            Some(OutboxEvent::Frames)
        }
    }

    /// Moves up to `max` queued frames, oldest first, to the end of `into`,
    /// and returns how many bytes they hold.
    pub(crate) fn take(&self, into: &mut VecDeque<Utf8Bytes>, max: usize) -> usize {
        let mut queue = self.queue.lock();
        let n = queue.frames.len().min(max);
        if n == queue.frames.len() && into.is_empty() {
            // The usual case: everything, into an empty batch. Swap buffers
            // instead of moving frames one by one.
            std::mem::swap(&mut queue.frames, into);
        } else {
            into.extend(queue.frames.drain(..n));
        }
        let taken: usize = into.iter().rev().take(n).map(|frame| frame.len()).sum();
        queue.bytes -= taken;
        let wake = queue.batch_waiting;
        drop(queue);
        if wake {
            self.taken.notify_waiters();
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use std::{
        pin::pin,
        sync::Arc,
        task::{Wake, Waker},
    };

    use super::*;

    fn frame(text: &str) -> Utf8Bytes {
        Utf8Bytes::from(text.to_owned())
    }

    fn outbox(frames: usize, bytes: usize) -> Outbox {
        Outbox::new(OutboxLimits { frames, bytes })
    }

    #[test]
    fn frames_come_out_in_order_and_at_most_max_at_a_time() {
        let outbox = outbox(10, 1000);
        for text in ["a", "bb", "ccc"] {
            outbox.push(frame(text)).unwrap();
        }
        let mut batch = VecDeque::new();
        assert_eq!(outbox.take(&mut batch, 2), 3);
        assert_eq!(batch, [frame("a"), frame("bb")]);
        assert_eq!(outbox.take(&mut batch, 2), 3);
        assert_eq!(batch, [frame("a"), frame("bb"), frame("ccc")]);
        batch.clear();
        assert_eq!(outbox.take(&mut batch, 2), 0);
        assert!(batch.is_empty());
    }

    #[test]
    fn the_frame_limit_refuses_and_taking_makes_room() {
        let outbox = outbox(2, 1000);
        outbox.push(frame("1")).unwrap();
        outbox.push(frame("2")).unwrap();
        assert_eq!(outbox.push(frame("3")), Err(OutboxFull));
        outbox.take(&mut VecDeque::new(), 1);
        outbox.push(frame("3")).unwrap();
    }

    #[test]
    fn the_byte_limit_refuses_but_one_big_frame_alone_goes_out() {
        let outbox = outbox(100, 10);
        outbox.push(frame(&"x".repeat(25))).unwrap();
        assert_eq!(outbox.push(frame("y")), Err(OutboxFull));
        outbox.take(&mut VecDeque::new(), 100);
        outbox.push(frame(&"x".repeat(6))).unwrap();
        outbox.push(frame(&"x".repeat(4))).unwrap();
        assert_eq!(outbox.push(frame("z")), Err(OutboxFull));
    }

    /// Whether `room_for(next)` is ready at once, and with what.
    fn room_now(outbox: &Outbox, next: usize) -> Poll<bool> {
        let (_, waker) = Flag::waker();
        pin!(outbox.room_for(next)).poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn held_answers_count_against_the_budget_until_released() {
        let outbox = outbox(100, 10);
        assert_eq!(room_now(&outbox, 50), Poll::Ready(true), "nothing queued or held: one answer of any size");
        outbox.hold(3);
        assert_eq!(room_now(&outbox, 7), Poll::Ready(true), "3 + 7 of 10 bytes");
        assert_eq!(room_now(&outbox, 8), Poll::Ready(false), "the held answers alone leave no room");
        outbox.release(3);
        assert_eq!(room_now(&outbox, 50), Poll::Ready(true));
    }

    #[test]
    fn a_batch_waits_for_the_writer_to_take_what_is_queued() {
        let outbox = outbox(100, 10);
        outbox.push(frame("123456")).unwrap();
        outbox.hold(2);
        let (flag, waker) = Flag::waker();
        let mut cx = Context::from_waker(&waker);
        let mut waiting = pin!(outbox.room_for(3));
        assert!(waiting.as_mut().poll(&mut cx).is_pending(), "6 queued + 2 held + 3 > 10");
        outbox.take(&mut VecDeque::new(), 100);
        assert!(flag.woken(), "taking wakes the batch");
        assert_eq!(waiting.as_mut().poll(&mut cx), Poll::Ready(true));
    }

    /// A waker that records whether it was woken.
    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    impl Flag {
        fn waker() -> (Arc<Self>, Waker) {
            let flag = Arc::new(Flag(false.into()));
            let waker = Arc::clone(&flag).into();
            (flag, waker)
        }

        fn woken(&self) -> bool {
            self.0.load(Ordering::SeqCst)
        }
    }

    /// Polls a writer's wait once before and once after `event` happens;
    /// returns whether it was woken and what it then saw.
    fn wait_across(outbox: &Outbox, event: impl FnOnce()) -> (bool, Poll<OutboxEvent>) {
        let (flag, waker) = Flag::waker();
        let mut cx = Context::from_waker(&waker);
        let mut ready = pin!(outbox.ready());
        assert!(ready.as_mut().poll(&mut cx).is_pending());
        event();
        (flag.woken(), ready.as_mut().poll(&mut cx))
    }

    #[test]
    fn a_waiting_writer_is_woken_by_the_first_frame() {
        let outbox = outbox(10, 1000);
        let seen = wait_across(&outbox, || outbox.push(frame("hello")).unwrap());
        assert_eq!(seen, (true, Poll::Ready(OutboxEvent::Frames)));
    }

    #[test]
    fn closing_wakes_the_writer_and_wins_over_queued_frames() {
        let outbox = outbox(10, 1000);
        assert_eq!(wait_across(&outbox, || outbox.close()), (true, Poll::Ready(OutboxEvent::Closing)));
        outbox.push(frame("late")).unwrap();
        let (_, waker) = Flag::waker();
        assert_eq!(pin!(outbox.ready()).poll(&mut Context::from_waker(&waker)), Poll::Ready(OutboxEvent::Closing));
    }
}
