// Direct messages between two browsers: started from "Message a user",
// found by the other person in their list with an unread badge, and
// answered there.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import {
  directId,
  login,
  messages,
  openDirect,
  presence,
  seeMessage,
  sendMessage,
  unreadBadge,
  until,
} from "../harness/helpers.mjs";

scenario("two browsers talk in a direct conversation, with unread badges", async ({ page }) => {
  const alice = await page("alice");
  const bob = await page("bob");
  await login(alice, "alice", "alice123");
  await login(bob, "bob", "bob123");
  const id = directId("alice", "bob");

  await openDirect(alice, "bob");
  assert.equal(await alice.locator("#room-title").getAttribute("class"), "direct", "drawn as @bob");
  assert.ok(await alice.getByRole("button", { name: "Leave room" }).isHidden(), "a conversation cannot be left");
  assert.ok(await alice.getByRole("button", { name: "Set topic" }).isHidden(), "nor does it have a topic");
  await sendMessage(alice, "psst, bob");

  // Bob never opened it: it appears in his list, unread.
  await until(bob, "the conversation in bob's list", (id) => document.querySelector(`#directs li[data-room="${id}"]`), id);
  assert.equal(await bob.locator(`#directs li[data-room="${id}"]`).getAttribute("data-user"), "alice");
  await unreadBadge(bob, id, 1);
  await bob.locator(`#directs li[data-room="${id}"] button`).click();
  await seeMessage(bob, "psst, bob", "alice");
  await unreadBadge(bob, id, 0);
  assert.deepEqual(await presence(bob), ["alice", "bob"], "the two participants");

  await sendMessage(bob, "hi alice, only you can read this");
  await seeMessage(alice, "hi alice, only you can read this", "bob");
  assert.deepEqual(
    (await messages(alice)).map((m) => [m.author, m.text]),
    [
      ["alice", "psst, bob"],
      ["bob", "hi alice, only you can read this"],
    ],
  );

  // Back in #general, a new direct message counts as unread for alice.
  await alice.locator('#rooms li[data-room="general"] button').click();
  await sendMessage(bob, "are you there?");
  await unreadBadge(alice, id, 1);
  assert.equal(await alice.locator("#messages").getByText("are you there?").count(), 0, "not in #general");

  // A third user, even a moderator, does not see the conversation.
  const moderator = await page("moderator");
  await login(moderator, "moderator", "mod123");
  assert.equal(await moderator.locator(`#directs li[data-room="${id}"]`).count(), 0);
});
