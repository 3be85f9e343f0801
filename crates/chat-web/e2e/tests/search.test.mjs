// Search: newest first, across rooms and the user's own direct
// conversations (never anyone else's); a result opens its room at the
// message.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import { joinRoom, login, openDirect, sendMessage, until, visible } from "../harness/helpers.mjs";

/** Runs a search and returns the results as {room, text, author}, in order. */
async function search(page, query) {
  const form = page.getByRole("search", { name: "Search" });
  await form.getByLabel("Search messages", { exact: true }).fill(query);
  await form.getByRole("button", { name: "Search", exact: true }).click();
  await until(page, `results for ${query}`, (query) =>
    document.querySelector("#search-results:not([hidden]) #search-title")?.textContent === `Results for “${query}”`, query);
  return page.$$eval("#search-list li", (items) =>
    items.map((li) => ({
      room: li.dataset.room ?? null,
      text: li.querySelector(".text")?.textContent ?? li.textContent,
      author: li.querySelector(".author")?.textContent ?? null,
    })),
  );
}

scenario("search finds whole words and prefixes, newest first, and opens the room", async ({ page }) => {
  const alice = await page("alice");
  const bob = await page("bob");
  await login(alice, "alice", "alice123");
  await login(bob, "bob", "bob123");
  await sendMessage(bob, "deploy the staging server at noon");
  await joinRoom(bob, "ops");
  await sendMessage(bob, "deployment finished without errors");
  await sendMessage(bob, "lunch anyone?");
  for (let i = 0; i < 60; i++) await sendMessage(bob, `filler ${i}`);
  await openDirect(alice, "bob");
  await sendMessage(alice, "secret deploy plan");

  assert.deepEqual(await search(alice, "deploy"), [
    { room: "dm:alice:bob", text: "secret deploy plan", author: "alice" },
    { room: "ops", text: "deployment finished without errors", author: "bob" },
    { room: "general", text: "deploy the staging server at noon", author: "bob" },
  ]);
  assert.deepEqual(
    (await search(alice, "deploy staging")).map((r) => r.text),
    ["deploy the staging server at noon"],
    "every word must appear",
  );
  assert.deepEqual(await search(alice, "nothing-like-this"), [{ room: null, text: "Nothing found.", author: null }]);

  // Another user finds the rooms' messages but not alice's conversation.
  const moderator = await page("moderator");
  await login(moderator, "moderator", "mod123");
  assert.deepEqual(
    (await search(moderator, "deploy")).map((r) => r.room),
    ["ops", "general"],
  );

  // A result opens its room (joining it) and shows the message, even one
  // older than the page of history a join brings.
  await search(alice, "deployment");
  await alice.locator('#search-list li[data-room="ops"] button').click();
  await until(alice, "ops on screen", () => document.querySelector('#rooms li[data-room="ops"]')?.getAttribute("aria-current") === "true");
  const found = await visible(alice.locator("#messages li.message.found"));
  assert.equal(await found.locator(".text").textContent(), "deployment finished without errors");

  await alice.getByRole("button", { name: "Close search", exact: true }).click();
  assert.ok(await alice.locator("#search-results").isHidden());
});
