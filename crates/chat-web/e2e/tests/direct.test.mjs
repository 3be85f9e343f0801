// Direct messages between two browsers: started from "Message a user",
// found by the other person in their list with an unread badge, and
// answered there.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import {
  directId,
  login,
  messages,
  notice,
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

scenario("a profile starts a conversation, and a block stops one", async ({ page }) => {
  const alice = await page("alice");
  const bob = await page("bob");
  await login(alice, "alice", "alice123");
  await login(bob, "bob", "bob123");
  const dialog = bob.getByRole("dialog", { name: "Profile" });

  // Bob blocks alice from her profile.
  await bob.locator('#presence li[data-user="alice"] button').click();
  await dialog.getByRole("button", { name: "Block", exact: true }).click();
  await notice(bob, "alice is blocked");

  // Alice cannot open a conversation with him; nothing else is said.
  await alice.getByRole("form", { name: "Message a user" }).getByLabel("Username to message").fill("bob");
  await alice.getByRole("form", { name: "Message a user" }).getByRole("button", { name: "Message" }).click();
  await notice(alice, "You cannot write to bob.");
  assert.equal(await alice.locator(`#directs li[data-room="${directId("alice", "bob")}"]`).count(), 0);

  // Unblocked, her profile's "Message" opens the conversation for him, and she can write.
  await bob.locator('#presence li[data-user="alice"] button').click();
  await dialog.getByRole("button", { name: "Unblock", exact: true }).click();
  await notice(bob, "alice is no longer blocked");
  await bob.locator('#presence li[data-user="alice"] button').click();
  await dialog.getByRole("button", { name: "Message", exact: true }).click();
  await until(bob, "the conversation on screen", () => document.querySelector("#room-title")?.textContent === "alice");
  await openDirect(alice, "bob");
  await sendMessage(alice, "thanks for unblocking me");
  await seeMessage(bob, "thanks for unblocking me", "alice");
});
