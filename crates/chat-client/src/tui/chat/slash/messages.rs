//! The arguments of the commands that act on messages: replies, edits,
//! deletes, reactions, and the room topic.

use chat_api::{Emoji, MessageId, MessageText, RoomTopic};

use super::{Command, SlashError, first_word, usage};

pub(super) const MSG_USAGE: &str = "/msg <user> <text>";
const REPLY_USAGE: &str = "/reply <message id> <text>";
const EDIT_USAGE: &str = "/edit [message id] <text>";
const DELETE_USAGE: &str = "/delete [message id]";
pub(super) const REACT_USAGE: &str = "/react <message id> <emoji>";
pub(super) const UNREACT_USAGE: &str = "/unreact <message id> <emoji>";
const TOPIC_USAGE: &str = "/topic [text | -]";
/// The largest `/modlog`.
const MAX_LOG: usize = 200;
/// `/modlog` without a count.
const DEFAULT_LOG: usize = 20;

/// A message id as shown after each message (`#12`), with or without `#`.
pub(crate) fn message_id(text: &str) -> Option<MessageId> {
    let digits = text.strip_prefix('#').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().filter(|id| *id > 0).map(MessageId)
}

pub(super) fn text(text: &str, usage_text: &'static str) -> Result<MessageText, SlashError> {
    MessageText::parse(text).map_err(|e| usage(usage_text, e))
}

fn required_id(word: &str, usage_text: &'static str) -> Result<MessageId, SlashError> {
    if word.is_empty() {
        return Err(usage(usage_text, "which message? give the number shown after it, e.g. #12"));
    }
    message_id(word).ok_or_else(|| usage(usage_text, format!("{word:?} is not a message id (the number after #)")))
}

pub(super) fn reply(rest: &str) -> Result<Command, SlashError> {
    let (id, body) = first_word(rest);
    let to = required_id(id, REPLY_USAGE)?;
    Ok(Command::Reply { to, text: text(body, REPLY_USAGE)? })
}

/// `/edit #12 new text` or `/edit new text` (the user's last message). A
/// leading number followed by more text is read as the id; a lone number
/// is the new text.
pub(super) fn edit(rest: &str) -> Result<Command, SlashError> {
    let (first, after) = first_word(rest);
    match message_id(first) {
        Some(id) if !after.is_empty() => Ok(Command::Edit { message: Some(id), text: text(after, EDIT_USAGE)? }),
        _ => Ok(Command::Edit { message: None, text: text(rest, EDIT_USAGE)? }),
    }
}

pub(super) fn delete(rest: &str) -> Result<Command, SlashError> {
    if rest.is_empty() {
        return Ok(Command::Delete(None));
    }
    Ok(Command::Delete(Some(required_id(rest, DELETE_USAGE)?)))
}

pub(super) fn reaction(rest: &str, usage_text: &'static str) -> Result<(MessageId, Emoji), SlashError> {
    let (id, emoji) = first_word(rest);
    let id = required_id(id, usage_text)?;
    if emoji.is_empty() {
        return Err(usage(usage_text, "which emoji? e.g. 👍 or +1"));
    }
    Ok((id, Emoji::parse(emoji).map_err(|e| usage(usage_text, e))?))
}

/// `/topic` shows it, `/topic -` clears it, anything else sets it.
pub(super) fn topic(rest: &str) -> Result<Command, SlashError> {
    match rest {
        "" => Ok(Command::Topic(None)),
        "-" => Ok(Command::Topic(Some(RoomTopic::default()))),
        text => Ok(Command::Topic(Some(RoomTopic::parse(text).map_err(|e| usage(TOPIC_USAGE, e))?))),
    }
}

pub(super) fn log_count(rest: &str) -> Result<usize, SlashError> {
    if rest.is_empty() {
        return Ok(DEFAULT_LOG);
    }
    match rest.parse::<usize>() {
        Ok(n) if (1..=MAX_LOG).contains(&n) => Ok(n),
        _ => Err(usage("/modlog [n]", format!("n must be a number from 1 to {MAX_LOG}"))),
    }
}
