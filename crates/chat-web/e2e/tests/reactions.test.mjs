// Reactions under messages and replies that quote what they answer, seen
// by both people as they happen.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import { joinRoom, login, mainScreen, messageItem, seeMessage, sendMessage, until, visible } from "../harness/helpers.mjs";

/** Waits until `text`'s reaction `emoji` reads `count` (0: gone), pressed or not for this page's user. */
function reaction(page, text, emoji, count, pressed) {
  return until(
    page,
    `${emoji} at ${count} under ${JSON.stringify(text)}`,
    ([text, emoji, count, pressed]) => {
      const li = [...document.querySelectorAll("#messages li.message")].findLast(
        (li) => li.querySelector(".text")?.textContent === text,
      );
      const button = li && [...li.querySelectorAll(".reactions button.reaction")].find((b) => b.dataset.emoji === emoji);
      if (count === 0) return li && !button;
      return (
        button?.dataset.count === String(count) &&
        button.textContent === `${emoji} ${count}` &&
        (pressed === null || button.getAttribute("aria-pressed") === String(pressed))
      );
    },
    [text, emoji, count, pressed ?? null],
  );
}

scenario("reactions are added, counted, shown to everyone and taken back", async ({ page }) => {
  const alice = await page("alice");
  const bob = await page("bob");
  await login(alice, "alice", "alice123");
  await login(bob, "bob", "bob123");
  await joinRoom(alice, "kitchen");
  await joinRoom(bob, "kitchen");
  await sendMessage(alice, "cake in the kitchen");
  await seeMessage(bob, "cake in the kitchen", "alice");

  // Bob picks 🎉 from the row that "React" opens.
  const onBob = messageItem(bob, "cake in the kitchen");
  await onBob.getByRole("button", { name: "React", exact: true }).click();
  const picker = await visible(onBob.getByRole("group", { name: "Pick a reaction" }));
  await picker.getByRole("button", { name: "React with 🎉" }).click();
  await reaction(bob, "cake in the kitchen", "🎉", 1, true);
  await reaction(alice, "cake in the kitchen", "🎉", 1, false);
  assert.equal(await onBob.locator(".picker").count(), 0, "the row closes after a pick");

  // Alice adds hers by clicking the same reaction: two, both names listed.
  await messageItem(alice, "cake in the kitchen").locator('button.reaction[data-emoji="🎉"]').click();
  await reaction(alice, "cake in the kitchen", "🎉", 2, true);
  await reaction(bob, "cake in the kitchen", "🎉", 2, true);
  assert.equal(
    await messageItem(bob, "cake in the kitchen").locator('button.reaction[data-emoji="🎉"]').getAttribute("title"),
    "bob, alice",
  );

  // Bob takes his back; alice's stays. Then hers goes, and the button with it.
  await onBob.locator('button.reaction[data-emoji="🎉"]').click();
  await reaction(alice, "cake in the kitchen", "🎉", 1, true);
  await reaction(bob, "cake in the kitchen", "🎉", 1, false);
  await messageItem(alice, "cake in the kitchen").locator('button.reaction[data-emoji="🎉"]').click();
  await reaction(bob, "cake in the kitchen", "🎉", 0);

  // A reload shows reactions from history.
  await messageItem(alice, "cake in the kitchen").getByRole("button", { name: "React", exact: true }).click();
  await alice.getByRole("button", { name: "React with 👍" }).click();
  await reaction(bob, "cake in the kitchen", "👍", 1, false);
  await bob.reload();
  await mainScreen(bob, "bob");
  await joinRoom(bob, "kitchen");
  await reaction(bob, "cake in the kitchen", "👍", 1, false);
});

scenario("a reply quotes the message it answers, and the quote leads to it", async ({ page }) => {
  const alice = await page("alice");
  const bob = await page("bob");
  await login(alice, "alice", "alice123");
  await login(bob, "bob", "bob123");
  await sendMessage(alice, "who took my stapler?");
  await sendMessage(alice, "and my mug");
  await seeMessage(bob, "and my mug", "alice");

  await messageItem(bob, "who took my stapler?").getByRole("button", { name: "Reply", exact: true }).click();
  await until(bob, "the reply mode", () => document.querySelector("#composer-mode:not([hidden])")?.textContent.includes("Replying to alice"));
  await sendMessage(bob, "not me");
  assert.ok(await bob.locator("#composer-mode").isHidden(), "back to a new message after sending");

  const originalId = await messageItem(alice, "who took my stapler?").getAttribute("data-message-id");
  for (const someone of [alice, bob]) {
    await seeMessage(someone, "not me", "bob");
    const reply = messageItem(someone, "not me");
    assert.equal(await reply.getAttribute("data-reply-to"), originalId);
    const quote = reply.locator("button.reply-quote");
    assert.equal(await quote.textContent(), "↪ alice: who took my stapler?");
  }
  // The quote shows the original.
  await messageItem(alice, "not me").locator("button.reply-quote").click();
  await until(alice, "the original marked", (id) => document.querySelector(`li.message.found[data-message-id="${id}"]`), originalId);

  // Cancel (or Escape) goes back to a plain message.
  await messageItem(bob, "and my mug").getByRole("button", { name: "Reply", exact: true }).click();
  await visible(bob.locator("#composer-mode"));
  await bob.getByLabel("Message", { exact: true }).press("Escape");
  assert.ok(await bob.locator("#composer-mode").isHidden());
  await sendMessage(bob, "a plain one");
  assert.equal(await messageItem(alice, "a plain one").getAttribute("data-reply-to").catch(() => null), null);
});
