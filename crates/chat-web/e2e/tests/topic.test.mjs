// Room topics: shown under the room's name and updated live; set by
// moderators and by the room's creator, refused to anyone else.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import { joinRoom, login, notice, until, visible } from "../harness/helpers.mjs";

/** Sets the topic of the room on screen from the room's head. */
async function setTopic(page, topic) {
  await page.getByRole("button", { name: "Set topic", exact: true }).click();
  const form = await visible(page.getByRole("form", { name: "Room topic" }));
  await form.getByLabel("Topic", { exact: true }).fill(topic);
  await form.getByRole("button", { name: "Save topic", exact: true }).click();
}

/** Waits until the room on screen shows `topic`. */
function seeTopic(page, topic) {
  return until(
    page,
    `the topic ${JSON.stringify(topic)}`,
    (topic) => {
      const shown = document.querySelector("#room-topic");
      return shown && !shown.hidden && shown.textContent === topic;
    },
    topic,
  );
}

scenario("a moderator's topic reaches everyone; a user sets one only in a room of their own", async ({ page }) => {
  const moderator = await page("moderator");
  const alice = await page("alice");
  await login(moderator, "moderator", "mod123");
  await login(alice, "alice", "alice123");
  assert.ok(await alice.locator("#room-topic").isHidden(), "no topic yet");

  const hostile = 'Welcome! <img src=x onerror="alert(1)"> read the rules';
  await setTopic(moderator, hostile);
  await seeTopic(moderator, hostile);
  await seeTopic(alice, hostile);
  assert.equal(await alice.locator("#room-topic img").count(), 0, "text, never markup");

  // Alice may not change #general's topic…
  await setTopic(alice, "alice was here");
  await notice(alice, "Only moderators and the room's creator can set its topic.");
  await seeTopic(alice, hostile);

  // …but may in a room she created, and the moderator in it sees it live.
  await joinRoom(alice, "alices-corner");
  await joinRoom(moderator, "alices-corner");
  await setTopic(alice, "tea and books");
  await seeTopic(alice, "tea and books");
  await seeTopic(moderator, "tea and books");

  // A new page gets topics with the room list.
  const bob = await page("bob");
  await login(bob, "bob", "bob123");
  await seeTopic(bob, hostile);
});
