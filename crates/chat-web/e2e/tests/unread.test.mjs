// Unread badges: counted as messages arrive in rooms not on screen,
// mentions marked, cleared by reading, and kept in step across the user's
// devices by the read marker. A reload rejoins the user's rooms.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import { joinRoom, login, mainScreen, messageItem, seeMessage, sendMessage, unreadBadge, until, visible } from "../harness/helpers.mjs";

scenario("rooms count unread messages and mentions until read, on every device", async ({ page }) => {
  const alice = await page("alice");
  const bob = await page("bob");
  await login(alice, "alice", "alice123");
  await login(bob, "bob", "bob123");
  await joinRoom(alice, "lounge");
  await joinRoom(bob, "lounge");
  await joinRoom(alice, "general");

  await sendMessage(bob, "anyone around?");
  await sendMessage(bob, "@alice your parcel arrived");
  await unreadBadge(alice, "lounge", 2, 1);
  const badge = alice.locator('#rooms li[data-room="lounge"] .unread');
  assert.equal(await badge.getAttribute("aria-label"), "2 unread, 1 mentioning you");
  assert.ok(await badge.evaluate((b) => b.classList.contains("mentioned")));
  await until(alice, "the count in the tab's title", () => document.title.startsWith("(2) "));
  await unreadBadge(alice, "general", 0);

  // Reading the room clears it; the mention is marked in the message.
  await joinRoom(alice, "lounge");
  await unreadBadge(alice, "lounge", 0);
  const mention = messageItem(alice, "@alice your parcel arrived");
  assert.ok(await mention.evaluate((li) => li.classList.contains("mentions-me")));
  assert.equal(await mention.locator(".text .mention.me").textContent(), "@alice");
  assert.equal(await messageItem(bob, "@alice your parcel arrived").locator(".mention:not(.me)").textContent(), "@alice");

  // Another device of alice's: it rejoins her rooms, with nothing unread.
  const phone = await page("alice-phone");
  await login(phone, "alice", "alice123");
  await until(phone, "lounge rejoined", () => document.querySelector('#rooms li.joined[data-room="lounge"]'));
  await unreadBadge(phone, "lounge", 0);

  // Both of alice's pages in #general: bob's message is unread on both,
  // until one of them reads it.
  await joinRoom(alice, "general");
  await joinRoom(phone, "general");
  await sendMessage(bob, "one more thing");
  await unreadBadge(alice, "lounge", 1, 0);
  await unreadBadge(phone, "lounge", 1, 0);
  await joinRoom(alice, "lounge");
  await unreadBadge(phone, "lounge", 0);

  // A reload keeps the rooms, and the counts come from the server.
  await sendMessage(bob, "while you were away");
  await phone.reload();
  await mainScreen(phone, "alice");
  await until(phone, "lounge rejoined after a reload", () => document.querySelector('#rooms li.joined[data-room="lounge"]'));
  await unreadBadge(phone, "lounge", 0);
  await joinRoom(alice, "general");
  await sendMessage(bob, "and another");
  await phone.reload();
  await mainScreen(phone, "alice");
  await until(phone, "lounge rejoined after a reload", () => document.querySelector('#rooms li.joined[data-room="lounge"]'));
  await unreadBadge(phone, "lounge", 1, 0);
});

scenario("a mention in a room the page is not in shows a banner that opens it", async ({ page }) => {
  const alice = await page("alice");
  const bob = await page("bob");
  await login(alice, "alice", "alice123");
  await login(bob, "bob", "bob123");
  await joinRoom(bob, "den");
  await sendMessage(bob, "@Alice come to the den");
  const banner = await visible(alice.locator('.mentioned[role="status"][data-room="den"]'));
  assert.match(await banner.textContent(), /bob mentioned you in #den: @Alice come to the den/);
  await banner.getByRole("button", { name: "Open #den", exact: true }).click();
  await until(alice, "den on screen", () => document.querySelector('#rooms li[data-room="den"]')?.getAttribute("aria-current") === "true");
  await seeMessage(alice, "@Alice come to the den", "bob");
  assert.equal(await banner.count(), 0, "the banner goes once used");
});
