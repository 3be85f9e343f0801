//! The rooms a session is in, each with its [`RoomCursor`], and the live
//! messages held back while a join is in flight.
//!
//! A live `message_received` can overtake the `join_room` answer. While a
//! join is pending its room collects such messages; when the answer comes,
//! both are merged by id, so the caller prints one ordered list and the live
//! stream continues after it without repeats.

use chat_api::{Message, MessageId, RoomId, RoomName};

use crate::cursor::RoomCursor;

#[derive(Debug)]
struct JoinedRoom {
    id: RoomId,
    name: RoomName,
    cursor: RoomCursor,
    /// Live messages that arrived while a join was pending.
    held: Option<Vec<Message>>,
    /// Whether a join of this room has ever succeeded.
    confirmed: bool,
}

/// What the caller of a join needs to finish or undo it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JoinTicket {
    /// `since_message_id` to send, for a room the session is already in.
    pub(crate) since: Option<MessageId>,
    /// Whether the room was already joined before this call.
    pub(crate) was_joined: bool,
}

/// The session's rooms, in the order they were joined, and the direct
/// conversations it has seen. A direct conversation needs no join: its
/// messages reach every connection of both users, so its cursor starts
/// with the first message or `open_direct` seen.
#[derive(Debug, Default)]
pub(crate) struct Rooms {
    list: Vec<JoinedRoom>,
    direct: Vec<(RoomId, RoomCursor)>,
}

impl Rooms {
    fn get_mut(&mut self, id: &RoomId) -> Option<&mut JoinedRoom> {
        self.list.iter_mut().find(|room| &room.id == id)
    }

    /// Marks a join of `name` as pending.
    pub(crate) fn begin_join(&mut self, name: &RoomName) -> JoinTicket {
        let id = name.id();
        if let Some(room) = self.get_mut(&id) {
            room.held.get_or_insert_with(Vec::new);
            return JoinTicket { since: Some(room.cursor.resume_point()), was_joined: room.confirmed };
        }
        self.list.push(JoinedRoom {
            id,
            name: name.clone(),
            cursor: RoomCursor::new(),
            held: Some(Vec::new()),
            confirmed: false,
        });
        JoinTicket { since: None, was_joined: false }
    }

    /// Completes a join with the server's answer. Returns the messages new to
    /// this session, oldest first: `recent` merged with what was held back.
    pub(crate) fn finish_join(&mut self, id: &RoomId, name: RoomName, recent: Vec<Message>) -> Vec<Message> {
        let Some(room) = self.get_mut(id) else {
            return Vec::new();
        };
        let mut batch = recent;
        batch.extend(room.held.take().unwrap_or_default());
        room.name = name;
        room.confirmed = true;
        room.cursor.take_new(batch)
    }

    /// Undoes [`Rooms::begin_join`] after a failed call.
    pub(crate) fn abort_join(&mut self, id: &RoomId, ticket: JoinTicket) -> Vec<Message> {
        if ticket.was_joined {
            return match self.get_mut(id) {
                Some(room) => {
                    let held = room.held.take().unwrap_or_default();
                    room.cursor.take_new(held)
                }
                None => Vec::new(),
            };
        }
        self.remove(id);
        Vec::new()
    }

    /// Sorts a live message: `Some` to show it now, `None` when it is a
    /// repeat, held for a pending join, or for a room the session left.
    pub(crate) fn on_live_message(&mut self, message: Message) -> Option<Message> {
        if message.room_id.is_direct() {
            let id = message.message_id;
            return self.direct_cursor(&message.room_id).observe(id).then_some(message);
        }
        let room = self.get_mut(&message.room_id)?;
        if let Some(held) = &mut room.held {
            held.push(message);
            return None;
        }
        room.cursor.observe(message.message_id).then_some(message)
    }

    fn direct_cursor(&mut self, id: &RoomId) -> &mut RoomCursor {
        let index = match self.direct.iter().position(|(known, _)| known == id) {
            Some(index) => index,
            None => {
                self.direct.push((id.clone(), RoomCursor::new()));
                self.direct.len() - 1
            }
        };
        &mut self.direct[index].1
    }

    /// The direct conversations seen, with where each resumes.
    pub(crate) fn direct_resume_points(&self) -> Vec<(RoomId, MessageId)> {
        self.direct.iter().map(|(id, cursor)| (id.clone(), cursor.resume_point())).collect()
    }

    /// Records messages recovered after a reconnect (or returned by
    /// `open_direct`); returns the new ones.
    pub(crate) fn deliver_recovered(&mut self, id: &RoomId, messages: Vec<Message>) -> Vec<Message> {
        if id.is_direct() {
            return self.direct_cursor(id).take_new(messages);
        }
        match self.get_mut(id) {
            Some(room) => room.cursor.take_new(messages),
            None => Vec::new(),
        }
    }

    /// Forgets a room. Returns whether the session was in it.
    pub(crate) fn remove(&mut self, id: &RoomId) -> bool {
        let before = self.list.len();
        self.list.retain(|room| &room.id != id);
        self.list.len() != before
    }

    /// The rooms to re-join after a reconnect, with where each resumes.
    pub(crate) fn resume_points(&self) -> Vec<(RoomName, MessageId)> {
        self.list
            .iter()
            .filter(|room| room.confirmed)
            .map(|room| (room.name.clone(), room.cursor.resume_point()))
            .collect()
    }

    /// The joined rooms, in join order.
    pub(crate) fn names(&self) -> Vec<RoomName> {
        self.list.iter().filter(|room| room.confirmed).map(|room| room.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use chat_api::{MessageText, Timestamp, UserName};

    use super::*;

    fn msg(room: &str, id: i64) -> Message {
        Message::plain(
            MessageId(id),
            RoomId::parse(room).unwrap(),
            UserName::parse("bob").unwrap(),
            MessageText::parse("hi").unwrap(),
            Timestamp::from_unix_millis(0),
        )
    }

    fn ids(messages: &[Message]) -> Vec<i64> {
        messages.iter().map(|m| m.message_id.0).collect()
    }

    #[test]
    fn live_messages_that_overtake_the_join_answer_are_merged_into_it() {
        let mut rooms = Rooms::default();
        let name = RoomName::parse("Lobby").unwrap();
        let ticket = rooms.begin_join(&name);
        assert_eq!(ticket, JoinTicket { since: None, was_joined: false });

        assert!(rooms.on_live_message(msg("lobby", 12)).is_none());
        let shown =
            rooms.finish_join(&name.id(), name.clone(), vec![msg("lobby", 10), msg("lobby", 11), msg("lobby", 12)]);
        assert_eq!(ids(&shown), [10, 11, 12]);

        assert!(rooms.on_live_message(msg("lobby", 12)).is_none());
        assert!(rooms.on_live_message(msg("lobby", 13)).is_some());
        assert_eq!(rooms.resume_points(), vec![(name, MessageId(13))]);
    }

    #[test]
    fn messages_for_rooms_not_joined_are_dropped() {
        let mut rooms = Rooms::default();
        assert!(rooms.on_live_message(msg("elsewhere", 1)).is_none());
    }

    #[test]
    fn a_failed_first_join_forgets_the_room() {
        let mut rooms = Rooms::default();
        let name = RoomName::parse("x").unwrap();
        let ticket = rooms.begin_join(&name);
        rooms.abort_join(&name.id(), ticket);
        assert!(rooms.names().is_empty());
    }

    #[test]
    fn rejoining_a_joined_room_resumes_after_its_last_message() {
        let mut rooms = Rooms::default();
        let name = RoomName::parse("general").unwrap();
        rooms.begin_join(&name);
        rooms.finish_join(&name.id(), name.clone(), vec![msg("general", 4)]);
        let ticket = rooms.begin_join(&name);
        assert_eq!(ticket, JoinTicket { since: Some(MessageId(4)), was_joined: true });
        assert!(rooms.on_live_message(msg("general", 5)).is_none());
        let released = rooms.abort_join(&name.id(), ticket);
        assert_eq!(ids(&released), [5]);
        assert_eq!(rooms.names(), vec![name]);
    }

    #[test]
    fn recovered_messages_skip_what_was_already_shown() {
        let mut rooms = Rooms::default();
        let name = RoomName::parse("general").unwrap();
        rooms.begin_join(&name);
        rooms.finish_join(&name.id(), name.clone(), vec![msg("general", 1), msg("general", 2)]);
        let new = rooms.deliver_recovered(&name.id(), vec![msg("general", 2), msg("general", 3)]);
        assert_eq!(ids(&new), [3]);
        // A pending join is not resumed after a reconnect until it succeeded.
        let other = RoomName::parse("pending").unwrap();
        rooms.begin_join(&other);
        assert_eq!(rooms.resume_points().len(), 1);
    }

    #[test]
    fn direct_messages_need_no_join_and_repeats_are_dropped() {
        let mut rooms = Rooms::default();
        let direct = |id| msg("dm:alice:bob", id);
        assert!(rooms.on_live_message(direct(4)).is_some());
        assert!(rooms.on_live_message(direct(4)).is_none());
        let id = RoomId::parse("dm:alice:bob").unwrap();
        assert_eq!(ids(&rooms.deliver_recovered(&id, vec![direct(4), direct(6)])), vec![6]);
        assert_eq!(rooms.direct_resume_points(), vec![(id, MessageId(6))]);
        assert!(rooms.resume_points().is_empty(), "a conversation is not re-joined");
    }
}
