//! Listing the server's rooms, which `list_rooms` answers a page at a time.

use chat_api::{
    RoomInfo,
    rpc::{ChatApiClient, MAX_ROOMS_LIMIT},
};
use jsonrpsee::core::ClientError;

use super::connection::RpcClient;

/// Most pages one listing asks for (100,000 rooms at the largest page),
/// so that a listing ends even on a server that keeps gaining rooms.
const MOST_PAGES: usize = 100;

/// The server's rooms in id order, and whether more remain beyond those
/// returned (only when [`MOST_PAGES`] pages did not reach the end).
pub(super) async fn all_rooms(client: &RpcClient) -> Result<(Vec<RoomInfo>, bool), ClientError> {
    let mut rooms: Vec<RoomInfo> = Vec::new();
    for _ in 0..MOST_PAGES {
        let after = rooms.last().map(|room| room.room_id.clone());
        let page = client.list_rooms(after, Some(MAX_ROOMS_LIMIT)).await?;
        let done = !page.has_more || page.rooms.is_empty();
        rooms.extend(page.rooms);
        if done {
            return Ok((rooms, false));
        }
    }
    Ok((rooms, true))
}
