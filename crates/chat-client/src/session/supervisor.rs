//! The task behind a session: it pumps notifications into the room
//! bookkeeping and the event channel, and when the connection ends decides
//! between stopping (kicked, banned) and reconnecting.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use chat_api::{
    CloseCode, ErrorCode, Message, RoomId, ServerEvent,
    notifications::Kicked,
    rpc::{ChatApiClient, MAX_HISTORY_LIMIT},
};
use futures_util::StreamExt;
use jsonrpsee::core::ClientError;
use tokio::sync::watch;

use super::{
    EndReason, Reconnected, SessionEvent, Shared,
    connection::{self, Connection, Notifications, RpcClient, Tagged},
};
use crate::{
    ConnectError,
    backoff::Backoff,
    cursor::CatchUp,
    error::{CloseFrame, retry_after},
    runtime,
};

/// How long to wait for jsonrpsee to report why a connection ended once
/// its notification streams have finished.
const DISCONNECT_REASON_WAIT: Duration = Duration::from_secs(5);

/// When one notification stream ends, how long the connection gets to show
/// that it closed before the stream is taken to have fallen behind.
const LAG_GRACE: Duration = Duration::from_millis(300);

/// Why the pump stopped.
enum PumpEnd {
    /// The session was closed or the front end went away.
    Stopped,
    /// The connection closed; the reason comes from jsonrpsee.
    Closed(ClientError),
    /// A notification stream fell behind and jsonrpsee dropped it.
    Lagged,
    /// A new token was set; reconnect with it.
    TokenChanged,
}

/// What to do after a connection ended.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    End(EndReason),
    Reconnect { announce: Option<String> },
    Stop,
}

/// `token` is subscribed to the session's token, with the first
/// connection's token already seen.
pub(super) async fn supervise(shared: Arc<Shared>, first: Connection, mut token: watch::Receiver<String>) {
    let mut connection = first;
    loop {
        let client = connection.client.clone();
        shared.client.send_replace(Some(client.clone()));
        let mut kicked = None;
        let end = pump(&shared, &client, connection.notifications, &mut token, &mut kicked).await;
        shared.client.send_replace(None);
        // A fresh token may be short-lived: use it at once, not after a
        // backoff delay.
        let at_once = matches!(end, PumpEnd::TokenChanged);
        let next = decide(end, kicked);
        // Dropping the last handle closes a connection that is still open
        // (after a lag or a token change).
        drop(client);
        drop(connection.client);
        let announce = match next {
            Next::Stop => return,
            Next::End(reason) => {
                let reason = with_ban_length(&shared, reason).await;
                // Nothing more to do either way: if the front end is gone,
                // nobody is left to tell.
                shared.events.send(SessionEvent::Ended(reason)).await.ok();
                return;
            }
            Next::Reconnect { announce } => announce,
        };
        if let Some(cause) = announce {
            tracing::info!(%cause, "connection lost; reconnecting");
            if shared.events.send(SessionEvent::ConnectionLost { cause }).await.is_err() {
                return;
            }
        }
        connection = match reconnect(&shared, &mut token, at_once).await {
            Some(connection) => connection,
            None => return,
        };
    }
}

/// After a kick, on a fresh connection: re-joins the rooms from where they
/// were left, reports it like a reconnect, then supervises as usual.
pub(super) async fn come_back(shared: Arc<Shared>, connection: Connection, mut token: watch::Receiver<String>) {
    let connection = match rejoin(&connection.client, &shared).await {
        Ok((mut report, missed)) => {
            report.attempts = 1;
            if !deliver(&shared, connection.client.clone(), report, missed).await {
                return;
            }
            connection
        }
        Err(error) => {
            let cause = error_chain(&error);
            if shared.events.send(SessionEvent::ConnectionLost { cause }).await.is_err() {
                return;
            }
            match reconnect(&shared, &mut token, false).await {
                Some(connection) => connection,
                None => return,
            }
        }
    };
    supervise(shared, connection, token).await;
}

/// Makes `connection` the session's, then sends a reconnect report and the
/// missed messages after it; false when nobody listens any more. The
/// connection is in place first, so a front end that sends what it held
/// back when it sees the report finds it.
async fn deliver(shared: &Shared, client: Arc<RpcClient>, report: Reconnected, missed: Vec<Message>) -> bool {
    shared.client.send_replace(Some(client));
    if shared.events.send(SessionEvent::Reconnected(report)).await.is_err() {
        return false;
    }
    for message in missed {
        let event = SessionEvent::Server(ServerEvent::MessageReceived(message));
        if shared.events.send(event).await.is_err() {
            return false;
        }
    }
    true
}

/// A ban whose close did not say how long it lasts: ask the server, so the
/// user is told "until …" or "permanently".
async fn with_ban_length(shared: &Shared, reason: EndReason) -> EndReason {
    match reason {
        EndReason::Banned { reason, length: None } => {
            EndReason::Banned { reason, length: super::ban_length(shared).await }
        }
        other => other,
    }
}

fn decide(end: PumpEnd, kicked: Option<Kicked>) -> Next {
    let error = match end {
        PumpEnd::Stopped => return Next::Stop,
        PumpEnd::TokenChanged => return Next::Reconnect { announce: None },
        PumpEnd::Lagged => {
            return Next::Reconnect { announce: Some("this client fell behind the server's messages".to_owned()) };
        }
        PumpEnd::Closed(error) => error,
    };
    after_close(CloseFrame::from_disconnect(&error), kicked)
}

/// Kicked (4001, or the kick notice arrived) and banned (4003) end the
/// session; any other close reconnects.
fn after_close(frame: CloseFrame, kicked: Option<Kicked>) -> Next {
    // The server's close reasons may repeat what the code says ("banned:
    // spam"); the front end says "banned" itself.
    let reason = |prefix: &str| {
        let reason = frame.reason.as_deref()?;
        Some(reason.strip_prefix(prefix).unwrap_or(reason).trim().to_owned()).filter(|r| !r.is_empty())
    };
    match (frame.kind(), kicked) {
        (Some(CloseCode::Banned), _) => {
            let length = frame.reason.as_deref().and_then(super::BanLength::from_description);
            Next::End(EndReason::Banned { reason: reason("banned:"), length })
        }
        (_, Some(kicked)) => {
            Next::End(EndReason::Kicked { reason: Some(kicked.reason.to_string()).filter(|r| !r.is_empty()) })
        }
        (Some(CloseCode::Kicked), None) => Next::End(EndReason::Kicked { reason: reason("kicked:") }),
        _ => Next::Reconnect { announce: Some(frame.description) },
    }
}

/// Feeds one connection's notifications to the front end until it ends.
async fn pump(
    shared: &Shared,
    client: &RpcClient,
    mut notifications: Notifications,
    token: &mut watch::Receiver<String>,
    kicked: &mut Option<Kicked>,
) -> PumpEnd {
    let mut closed: Option<ClientError> = None;
    loop {
        let next = tokio::select! {
            () = shared.stop.cancelled() => return PumpEnd::Stopped,
            changed = token.changed(), if closed.is_none() => match changed {
                Ok(()) => return PumpEnd::TokenChanged,
                Err(_) => return PumpEnd::Stopped,
            },
            next = notifications.next() => next,
        };
        let Some(Tagged { method, item }) = next else {
            // Every stream has ended, so everything the server sent before
            // closing has been delivered (a kick notice included).
            let error = match closed {
                Some(error) => error,
                None => wait_for_disconnect(client).await,
            };
            return PumpEnd::Closed(error);
        };
        let value = match item {
            Some(Ok(value)) => value,
            Some(Err(error)) => {
                tracing::warn!(method, %error, "dropping a notification that does not parse");
                continue;
            }
            None if closed.is_some() => continue,
            None => match runtime::timeout(LAG_GRACE, client.on_disconnect()).await {
                // The connection closed: keep draining the other streams.
                Ok(error) => {
                    closed = Some(error);
                    continue;
                }
                Err(_) => {
                    tracing::warn!(method, "notification buffer overflowed");
                    return PumpEnd::Lagged;
                }
            },
        };
        let Some(event) = parse(method, &value) else {
            continue;
        };
        let Some(event) = route(shared, event, kicked) else {
            continue;
        };
        if shared.events.send(event).await.is_err() {
            return PumpEnd::Stopped;
        }
    }
}

async fn wait_for_disconnect(client: &RpcClient) -> ClientError {
    runtime::timeout(DISCONNECT_REASON_WAIT, client.on_disconnect())
        .await
        .unwrap_or_else(|_| ClientError::Custom("the connection stopped answering".to_owned()))
}

fn parse(method: &'static str, value: &serde_json::Value) -> Option<ServerEvent> {
    let raw = serde_json::value::to_raw_value(value).ok()?;
    match ServerEvent::from_method_and_params(method, &raw)? {
        Ok(event) => Some(event),
        Err(error) => {
            tracing::warn!(method, %error, "dropping a notification with unexpected params");
            None
        }
    }
}

/// Updates the bookkeeping for one notification and decides whether the
/// front end sees it.
fn route(shared: &Shared, event: ServerEvent, kicked: &mut Option<Kicked>) -> Option<SessionEvent> {
    match event {
        ServerEvent::MessageReceived(message) => shared
            .rooms
            .lock()
            .on_live_message(message)
            .map(|message| SessionEvent::Server(ServerEvent::MessageReceived(message))),
        // Sent only to the kicked user's own connections, just before they
        // are closed: it becomes the session's end, not a room event.
        ServerEvent::UserKicked(notice) if notice.room_id.is_none() => {
            *kicked = Some(notice);
            None
        }
        ServerEvent::RoomDeleted(deleted) => {
            shared.rooms.lock().remove(&deleted.room_id);
            Some(SessionEvent::Server(ServerEvent::RoomDeleted(deleted)))
        }
        other => Some(SessionEvent::Server(other)),
    }
}

/// Reconnects with backoff until it works, the session is closed, or the
/// server says the user may not come back. Re-joins every room and delivers
/// what was missed before returning the new connection.
async fn reconnect(shared: &Shared, token: &mut watch::Receiver<String>, at_once: bool) -> Option<Connection> {
    let options = &shared.options;
    let mut backoff = Backoff::new(options.first_retry, options.max_retry);
    let mut wait = !at_once;
    loop {
        if wait {
            let delay = backoff.next_delay();
            tokio::select! {
                () = shared.stop.cancelled() => return None,
                () = runtime::sleep(delay) => {}
                changed = token.changed() => if changed.is_err() { return None },
            }
        }
        wait = true;
        let current = token.borrow_and_update().clone();
        let connection = match connection::open(&shared.server, &current, options).await {
            Ok(connection) => connection,
            Err(ConnectError::TokenRejected) => {
                if shared.events.send(SessionEvent::TokenRejected).await.is_err() {
                    return None;
                }
                tokio::select! {
                    () = shared.stop.cancelled() => return None,
                    changed = token.changed() => if changed.is_err() { return None },
                }
                backoff.reset();
                wait = false;
                continue;
            }
            Err(ConnectError::Banned) => {
                // As above: the session ends whether or not anyone listens.
                let reason = with_ban_length(shared, EndReason::Banned { reason: None, length: None }).await;
                shared.events.send(SessionEvent::Ended(reason)).await.ok();
                return None;
            }
            Err(error) => {
                tracing::debug!(error = %error_chain(&error), "reconnect attempt failed");
                continue;
            }
        };
        match rejoin(&connection.client, shared).await {
            Ok((mut report, missed)) => {
                report.attempts = backoff.attempts().max(1);
                return deliver(shared, connection.client.clone(), report, missed).await.then_some(connection);
            }
            Err(error) => {
                tracing::debug!(%error, "re-joining rooms failed; trying again");
            }
        }
    }
}

/// Re-joins every room from its resume point and collects what it missed.
/// Live notifications wait in jsonrpsee's buffers meanwhile; the pump sees
/// them afterwards and the cursors drop the ones recovered here.
async fn rejoin(client: &RpcClient, shared: &Shared) -> Result<(Reconnected, Vec<Message>), ClientError> {
    let targets = shared.rooms.lock().resume_points();
    let mut report = Reconnected { attempts: 0, rooms: Vec::new(), gone: Vec::new(), missed: 0, gaps: Vec::new() };
    let mut missed = catch_up_direct(client, shared, &mut report).await?;
    if targets.is_empty() {
        report.missed = missed.len();
        return Ok((report, missed));
    }
    // Joining creates rooms, so first check which still exist: a room
    // deleted during the outage must not be resurrected.
    let (rooms, more) = super::room_list::all_rooms(client).await?;
    let existing: BTreeSet<RoomId> = rooms.into_iter().map(|room| room.room_id).collect();
    for (name, since) in targets {
        let id = name.id();
        // Beyond a listing cut short, a room is assumed to still exist.
        let beyond_listing = more && existing.last().is_some_and(|last| &id > last);
        if !existing.contains(&id) && !beyond_listing {
            shared.rooms.lock().remove(&id);
            report.gone.push(id);
            continue;
        }
        let answer = loop {
            match client.join_room(name.clone(), Some(since)).await {
                Ok(answer) => break answer,
                // Joins are rate limited per user: someone in more rooms
                // than the burst allows waits as told instead of failing
                // (and repeating) the whole reconnect.
                Err(ClientError::Call(object)) if object.code() == ErrorCode::RateLimited.code() => {
                    runtime::sleep(retry_after(&object).unwrap_or(Duration::from_secs(1))).await;
                }
                Err(error) => return Err(error),
            }
        };
        let mut catch_up = CatchUp::new(since);
        let mut before = catch_up.add_join_answer(answer.recent_messages);
        while let Some(oldest) = before {
            let page = client.get_history(id.clone(), Some(oldest), Some(MAX_HISTORY_LIMIT)).await?;
            before = catch_up.add_history_page(page);
        }
        let (recovered, truncated) = catch_up.finish();
        if truncated {
            report.gaps.push(id.clone());
        }
        let new = shared.rooms.lock().deliver_recovered(&id, recovered);
        missed.extend(new);
        report.rooms.push(answer.room_name);
    }
    report.missed = missed.len();
    Ok((report, missed))
}

/// Pages back through each direct conversation seen so far until its
/// resume point. No join is needed: the new connection already receives
/// the conversation's live messages, and the cursors drop repeats.
async fn catch_up_direct(
    client: &RpcClient,
    shared: &Shared,
    report: &mut Reconnected,
) -> Result<Vec<Message>, ClientError> {
    let targets = shared.rooms.lock().direct_resume_points();
    let mut missed = Vec::new();
    for (id, since) in targets {
        let mut catch_up = CatchUp::new(since);
        let mut before = None;
        loop {
            let page = client.get_history(id.clone(), before, Some(MAX_HISTORY_LIMIT)).await?;
            match catch_up.add_history_page(page) {
                Some(oldest) => before = Some(oldest),
                None => break,
            }
        }
        let (recovered, truncated) = catch_up.finish();
        if truncated {
            report.gaps.push(id.clone());
        }
        missed.extend(shared.rooms.lock().deliver_recovered(&id, recovered));
    }
    Ok(missed)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use chat_api::{Reason, UserName};

    use super::*;

    fn frame(code: Option<u16>, reason: Option<&str>) -> CloseFrame {
        CloseFrame { code, reason: reason.map(str::to_owned), description: "closed".to_owned() }
    }

    fn kick(reason: &str) -> Option<Kicked> {
        Some(Kicked {
            username: UserName::parse("bob").unwrap(),
            reason: Reason::parse(reason).unwrap(),
            room_id: None,
        })
    }

    #[test]
    fn kicked_and_banned_end_the_session_with_their_reason() {
        assert_eq!(
            after_close(frame(Some(4003), Some("banned: spam")), None),
            Next::End(EndReason::Banned { reason: Some("spam".into()), length: None })
        );
        assert_eq!(
            after_close(frame(Some(4001), Some("kicked: flood")), kick("too loud")),
            Next::End(EndReason::Kicked { reason: Some("too loud".into()) })
        );
        assert_eq!(
            after_close(frame(Some(4001), Some("kicked: flood")), None),
            Next::End(EndReason::Kicked { reason: Some("flood".into()) })
        );
        // The notice alone is enough, whatever the close looked like.
        assert_eq!(after_close(frame(None, None), kick("")), Next::End(EndReason::Kicked { reason: None }));
    }

    #[test]
    fn a_close_reason_that_says_how_long_is_read() {
        let Next::End(EndReason::Banned { length, .. }) =
            after_close(frame(Some(4003), Some("banned until 2030-01-02T03:04:05.000Z: spam")), None)
        else {
            panic!("a ban ends the session")
        };
        assert_eq!(
            length,
            Some(super::super::BanLength::Until(chat_api::Timestamp::from_unix_millis(1_893_553_445_000)))
        );
    }

    #[test]
    fn restarts_slowness_and_network_failures_reconnect() {
        for code in [Some(1001), Some(4008), Some(1006), None] {
            assert!(matches!(after_close(frame(code, None), None), Next::Reconnect { announce: Some(_) }), "{code:?}");
        }
    }
}
