//! Messages on PostgreSQL (skeleton; being built).
#![allow(unused_variables, dead_code)]

use std::time::Duration;

use chat_api::{Emoji, Message, MessageId, MessageText, RoomId, SearchQuery, UserId, UserName};
use deadpool_postgres::Pool;

use crate::store::{Appended, Edited, MessageMeta, NewMessage, ReactionOutcome, Removed, StoreError};

/// Where this node's commits are announced, and other nodes' come in.
#[derive(Debug, Default)]
pub struct RemoteCommits {}

#[derive(Debug)]
pub(in crate::store) struct MessageLog {
    pool: Pool,
    remote: RemoteCommits,
}

fn todo_err() -> StoreError {
    StoreError::Unavailable("message log: not built yet".to_owned())
}

impl MessageLog {
    pub(super) async fn start(pg: tokio_postgres::Config, pool: Pool, timeout: Duration) -> Result<Self, StoreError> {
        Ok(Self { pool, remote: RemoteCommits::default() })
    }
    pub(super) fn remote_commits(&self) -> &RemoteCommits {
        &self.remote
    }
    pub(super) async fn close(&self) {}
    pub(in crate::store) async fn append<D>(&self, message: NewMessage, done: D) -> Result<(), StoreError>
    where
        D: FnOnce(Result<Appended, StoreError>) + Send + 'static,
    {
        Err(todo_err())
    }
    pub(in crate::store) fn room_created(&self, room: &RoomId) {}
    pub(in crate::store) fn room_deleted(&self, room: &RoomId) {}
    pub(in crate::store) fn recent(
        &self,
        room: &RoomId,
        after: MessageId,
        upto: MessageId,
        limit: usize,
    ) -> Option<Vec<Message>> {
        None
    }
    pub(in crate::store) async fn history(
        &self,
        room: RoomId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), StoreError> {
        Err(todo_err())
    }
    pub(in crate::store) async fn range(
        &self,
        room: RoomId,
        after: Option<MessageId>,
        upto: MessageId,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        Err(todo_err())
    }
    pub(in crate::store) async fn last_message_id(&self) -> Result<MessageId, StoreError> {
        Err(todo_err())
    }
    pub(in crate::store) async fn meta(&self, id: MessageId) -> Result<Option<MessageMeta>, StoreError> {
        Err(todo_err())
    }
    pub(in crate::store) async fn edit<D>(
        &self,
        id: MessageId,
        author: UserId,
        text: MessageText,
        done: D,
    ) -> Result<(), StoreError>
    where
        D: FnOnce(Result<Edited, StoreError>) + Send + 'static,
    {
        Err(todo_err())
    }
    pub(in crate::store) async fn delete<A, D>(&self, id: MessageId, allowed: A, done: D) -> Result<(), StoreError>
    where
        A: FnOnce(&MessageMeta) -> Result<(), StoreError> + Send + 'static,
        D: FnOnce(Result<Removed, StoreError>) + Send + 'static,
    {
        Err(todo_err())
    }
    pub(in crate::store) async fn react<D>(
        &self,
        id: MessageId,
        user: (UserId, UserName),
        emoji: Emoji,
        add: bool,
        done: D,
    ) -> Result<(), StoreError>
    where
        D: FnOnce(Result<ReactionOutcome, StoreError>) + Send + 'static,
    {
        Err(todo_err())
    }
    pub(in crate::store) async fn search(
        &self,
        query: SearchQuery,
        reader: UserId,
        room: Option<RoomId>,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), StoreError> {
        Err(todo_err())
    }
}
