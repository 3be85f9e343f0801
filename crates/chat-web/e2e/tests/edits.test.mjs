// Editing and deleting one's own messages: the change shows in place on
// every page, and a moderator may delete anyone's message in a room.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import { joinRoom, login, mainScreen, messageItem, messages, seeMessage, sendMessage, until } from "../harness/helpers.mjs";

/** Waits until message `id` reads `text` with "(edited)". */
function edited(page, id, text) {
  return until(
    page,
    `message ${id} edited to ${JSON.stringify(text)}`,
    ([id, text]) => {
      const li = document.querySelector(`#messages li.message[data-message-id="${id}"]`);
      return li?.querySelector(".text")?.textContent === text && li.querySelector(".edited")?.textContent === "(edited)";
    },
    [id, text],
  );
}

/** Waits until message `id` shows as deleted, in its place. */
function deleted(page, id) {
  return until(
    page,
    `message ${id} shown as deleted`,
    (id) => {
      const li = document.querySelector(`#messages li.message.deleted[data-message-id="${id}"]`);
      return li?.querySelector(".text")?.textContent === "This message was deleted.";
    },
    id,
  );
}

scenario("own messages are edited and deleted in place for everyone", async ({ page, browser }) => {
  const alice = await page("alice");
  const bob = await page("bob");
  await login(alice, "alice", "alice123");
  await login(bob, "bob", "bob123");
  await joinRoom(alice, "drafts");
  await joinRoom(bob, "drafts");
  for (const text of ["first", "teh typo", "last"]) await sendMessage(alice, text);
  await seeMessage(bob, "last", "alice");
  const id = await messageItem(alice, "teh typo").getAttribute("data-message-id");

  // Only one's own messages offer Edit.
  assert.equal(await messageItem(bob, "teh typo").getByRole("button", { name: "Edit", exact: true }).count(), 0);
  assert.equal(await messageItem(bob, "teh typo").getByRole("button", { name: "Delete", exact: true }).count(), 0);

  await messageItem(alice, "teh typo").getByRole("button", { name: "Edit", exact: true }).click();
  const box = alice.getByLabel("Message", { exact: true });
  assert.equal(await box.inputValue(), "teh typo", "the box starts from the text");
  await until(alice, "the edit mode", () => document.querySelector("#composer-mode:not([hidden])")?.textContent.includes("Editing"));
  await box.fill("the typo, fixed");
  await box.press("Enter");
  for (const someone of [alice, bob]) await edited(someone, id, "the typo, fixed");
  // In place: the order and the count did not change.
  assert.deepEqual(
    (await messages(bob)).map((m) => m.text),
    ["first", "the typo, fixed", "last"],
  );

  browser.expectConfirm(alice);
  await messageItem(alice, "the typo, fixed").getByRole("button", { name: "Delete", exact: true }).click();
  for (const someone of [alice, bob]) await deleted(someone, id);
  assert.deepEqual(
    (await messages(bob)).map((m) => m.text),
    ["first", "This message was deleted.", "last"],
  );
  assert.deepEqual(browser.answered, ["Delete this message for everyone?"]);

  // History no longer has it: a page loaded afresh shows the others only.
  await bob.reload();
  await mainScreen(bob, "bob");
  await joinRoom(bob, "drafts");
  await seeMessage(bob, "last", "alice");
  assert.deepEqual(
    (await messages(bob)).map((m) => m.text),
    ["first", "last"],
  );
});

scenario("a moderator deletes someone else's message in a room", async ({ page, browser }) => {
  const bob = await page("bob");
  const moderator = await page("moderator");
  await login(bob, "bob", "bob123");
  await login(moderator, "moderator", "mod123");
  await sendMessage(bob, "buy cheap watches");
  await seeMessage(moderator, "buy cheap watches", "bob");
  const id = await messageItem(bob, "buy cheap watches").getAttribute("data-message-id");
  assert.equal(await messageItem(moderator, "buy cheap watches").getByRole("button", { name: "Edit", exact: true }).count(), 0);
  browser.expectConfirm(moderator);
  await messageItem(moderator, "buy cheap watches").getByRole("button", { name: "Delete", exact: true }).click();
  for (const someone of [bob, moderator]) await deleted(someone, id);
});
