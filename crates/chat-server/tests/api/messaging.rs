//! Rooms and messages through the generated jsonrpsee client.

use chat_api::{
    MessageId, RoomId,
    notifications::{MESSAGE_RECEIVED, ROOM_CREATED},
    rpc::ChatApiClient,
};
use jsonrpsee::core::client::SubscriptionClientT;
use serde_json::Value;

use crate::support::{TestServer, within};

fn room(name: &str) -> RoomId {
    RoomId::parse(name).unwrap()
}

#[tokio::test]
async fn a_message_reaches_every_member_including_the_sender() {
    let server = TestServer::spawn().await;
    let alice = server.client_in("alice", "general").await;
    let bob = server.client_in("bob", "general").await;
    let mut alice_inbox = alice.subscribe_to_method::<chat_api::Message>(MESSAGE_RECEIVED).await.unwrap();
    let mut bob_inbox = bob.subscribe_to_method::<chat_api::Message>(MESSAGE_RECEIVED).await.unwrap();

    let sent = alice.send_message(room("general"), "hi bob".parse().unwrap(), None).await.unwrap();
    for inbox in [&mut alice_inbox, &mut bob_inbox] {
        let message = within("message", inbox.next()).await.unwrap().unwrap();
        assert_eq!(message.message_id, sent.message_id);
        assert_eq!(message.username.as_str(), "alice");
        assert_eq!(message.text.as_str(), "hi bob");
        assert_eq!(message.timestamp, sent.timestamp);
    }
}

#[tokio::test]
async fn messages_stay_in_their_room() {
    let server = TestServer::spawn().await;
    let alice = server.client_in("alice", "general").await;
    alice.join_room("random".parse().unwrap(), None).await.unwrap();
    let bob = server.client_in("bob", "random").await;
    let mut bob_inbox = bob.subscribe_to_method::<chat_api::Message>(MESSAGE_RECEIVED).await.unwrap();
    alice.send_message(room("general"), "for general".parse().unwrap(), None).await.unwrap();
    alice.send_message(room("random"), "for random".parse().unwrap(), None).await.unwrap();
    let first = within("message", bob_inbox.next()).await.unwrap().unwrap();
    assert_eq!(first.text.as_str(), "for random");
}

#[tokio::test]
async fn joining_creates_a_room_and_tells_everyone() {
    let server = TestServer::spawn().await;
    let bob = server.client("bob").await;
    let mut created = bob.subscribe_to_method::<Value>(ROOM_CREATED).await.unwrap();
    let alice = server.client("alice").await;
    let joined = alice.join_room("Rust-Lang".parse().unwrap(), None).await.unwrap();
    assert_eq!(joined.room_id.as_str(), "rust-lang");
    assert_eq!(joined.room_name.as_str(), "Rust-Lang");
    let notice = within("room_created", created.next()).await.unwrap().unwrap();
    assert_eq!(notice["room_info"]["room_id"], "rust-lang");
    assert_eq!(notice["room_info"]["room_name"], "Rust-Lang");
    assert_eq!(notice["room_info"]["user_count"], 1);

    let rooms = bob.list_rooms(None, None).await.unwrap().rooms;
    let ids: Vec<&str> = rooms.iter().map(|r| r.room_id.as_str()).collect();
    assert_eq!(ids, vec!["general", "rust-lang"]);
}

#[tokio::test]
async fn joining_twice_is_harmless() {
    let server = TestServer::spawn().await;
    let alice = server.client_in("alice", "general").await;
    let again = alice.join_room("General".parse().unwrap(), None).await.unwrap();
    assert_eq!(again.user_count, 1);
    assert_eq!(again.room_name.as_str(), "general");
}

#[tokio::test]
async fn message_ids_increase_in_the_order_one_client_sent_them() {
    let server = TestServer::spawn().await;
    let alice = server.client_in("alice", "general").await;
    let sends = (0..50).map(|i| alice.send_message(room("general"), format!("m{i}").parse().unwrap(), None));
    let results = futures_util::future::join_all(sends).await;
    let ids: Vec<MessageId> = results.into_iter().map(|r| r.unwrap().message_id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let history = alice.get_history(room("general"), None, Some(50)).await.unwrap();
    let texts: Vec<String> = history.messages.iter().map(|m| m.text.to_string()).collect();
    let expected: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, expected);
}

#[tokio::test]
async fn members_see_concurrent_senders_in_id_order() {
    let server = TestServer::spawn().await;
    let reader = server.client_in("moderator", "general").await;
    let mut inbox = reader.subscribe_to_method::<chat_api::Message>(MESSAGE_RECEIVED).await.unwrap();
    let alice = server.client_in("alice", "general").await;
    let bob = server.client_in("bob", "general").await;
    let a = async {
        for i in 0..30 {
            alice.send_message(room("general"), format!("a{i}").parse().unwrap(), None).await.unwrap();
        }
    };
    let b = async {
        for i in 0..30 {
            bob.send_message(room("general"), format!("b{i}").parse().unwrap(), None).await.unwrap();
        }
    };
    tokio::join!(a, b);
    let mut last = MessageId(0);
    for _ in 0..60 {
        let message = within("message", inbox.next()).await.unwrap().unwrap();
        assert!(message.message_id > last, "out of order");
        last = message.message_id;
    }
}

#[tokio::test]
async fn leaving_stops_delivery_and_membership() {
    let server = TestServer::spawn().await;
    let alice = server.client_in("alice", "general").await;
    alice.join_room("random".parse().unwrap(), None).await.unwrap();
    let bob = server.client_in("bob", "general").await;
    bob.join_room("random".parse().unwrap(), None).await.unwrap();
    let mut alice_inbox = alice.subscribe_to_method::<chat_api::Message>(MESSAGE_RECEIVED).await.unwrap();
    alice.leave_room(room("general")).await.unwrap();
    bob.send_message(room("general"), "gone?".parse().unwrap(), None).await.unwrap();
    bob.send_message(room("random"), "still here".parse().unwrap(), None).await.unwrap();
    let next = within("message", alice_inbox.next()).await.unwrap().unwrap();
    assert_eq!(next.text.as_str(), "still here");
    assert!(alice.send_message(room("general"), "x".parse().unwrap(), None).await.is_err());
}

#[tokio::test]
async fn profiles_start_with_a_cat_and_can_be_updated() {
    let server = TestServer::spawn().await;
    let alice = server.client("alice").await;
    let profile = alice.get_profile("bob".parse().unwrap()).await.unwrap().profile;
    assert_eq!(profile.username.as_str(), "bob");
    assert_eq!(profile.display_name.as_str(), "bob");
    assert_eq!(profile.role, chat_api::Role::User);

    let avatar = chat_api::Avatar {
        breed: chat_api::Breed::MaineCoon,
        color: chat_api::CatColor::Black,
        expression: chat_api::Expression::Sleepy,
    };
    let updated = alice.update_profile(Some("Alice A.".parse().unwrap()), Some(avatar)).await.unwrap().profile;
    assert_eq!(updated.display_name.as_str(), "Alice A.");
    assert_eq!(updated.avatar, avatar);
    let seen_by_bob = server.client("bob").await.get_profile("ALICE".parse().unwrap()).await.unwrap().profile;
    assert_eq!(seen_by_bob, ProfileEq::ignore_last_seen(&updated, &seen_by_bob));
}

/// `last_seen` is "now" for online users, so compare profiles without it.
struct ProfileEq;
impl ProfileEq {
    fn ignore_last_seen(expected: &chat_api::Profile, actual: &chat_api::Profile) -> chat_api::Profile {
        chat_api::Profile { last_seen: actual.last_seen, ..expected.clone() }
    }
}

#[tokio::test]
async fn an_unknown_avatar_part_is_invalid_params() {
    let server = TestServer::spawn().await;
    let mut raw = server.raw("alice").await;
    let reply = raw
        .call(
            "update_profile",
            serde_json::json!({"avatar": {"breed": "dog", "color": "black", "expression": "happy"}}),
        )
        .await;
    assert_eq!(reply["error"]["code"], -32602);
}
