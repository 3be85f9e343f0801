// Two people in two browsers in one room.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import { joinRoom, login, messages, presence, seeMessage, sendMessage, until } from "../harness/helpers.mjs";

/** Waits until room `id`'s count in the room list reads `count`. */
function roomCount(page, id, count) {
  return until(
    page,
    `room ${id} to count ${count} users`,
    ([id, count]) => {
      const badge = document.querySelector(`nav li[data-room="${id}"] .count[data-count]`);
      return badge?.textContent === String(count) && badge.getAttribute("data-count") === String(count);
    },
    [id, count],
  );
}

scenario("two browsers chat in a room both ways, with presence, typing and counts", async ({ page }) => {
  const alice = await page("alice");
  const bob = await page("bob");
  await login(alice, "alice", "alice123");
  await login(bob, "bob", "bob123");
  await joinRoom(alice, "lounge");
  await joinRoom(bob, "lounge");

  for (const someone of [alice, bob]) {
    await until(someone, "alice and bob in the presence list", () =>
      ["alice", "bob"].every((u) => document.querySelector(`#presence li[data-user="${u}"]`)),
    );
    assert.deepEqual(await presence(someone), ["alice", "bob"]);
    await roomCount(someone, "lounge", 2);
    await roomCount(someone, "general", 2);
  }

  // Typing shows for the other person, never for oneself.
  await bob.getByLabel("Message", { exact: true }).pressSequentially("hel");
  await until(alice, "bob's typing notice", () => document.querySelector("#typing")?.textContent === "bob is typing…");
  assert.equal(await bob.locator("#typing").textContent(), "");
  assert.equal(await alice.locator("#typing").getAttribute("aria-live"), "polite");

  await sendMessage(bob, "hello alice");
  await seeMessage(alice, "hello alice", "bob");
  await sendMessage(alice, "hi bob");
  await seeMessage(bob, "hi bob", "alice");

  const seenByAlice = await messages(alice);
  const seenByBob = await messages(bob);
  assert.deepEqual(
    seenByAlice.map((m) => [m.author, m.text, m.own]),
    [
      ["bob", "hello alice", false],
      ["alice", "hi bob", true],
    ],
  );
  assert.deepEqual(
    seenByBob.map((m) => [m.author, m.text, m.own]),
    [
      ["bob", "hello alice", true],
      ["alice", "hi bob", false],
    ],
  );
  assert.deepEqual(
    seenByAlice.map((m) => m.id),
    seenByBob.map((m) => m.id),
    "the same ids on both pages",
  );
  for (const message of [...seenByAlice, ...seenByBob]) {
    assert.match(message.id, /^\d+$/, "a numeric data-message-id");
    assert.match(message.time ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, "an RFC 3339 datetime");
    assert.ok(Math.abs(Date.parse(message.time) - Date.now()) < 5 * 60_000, `a time near now: ${message.time}`);
    assert.match(message.shown ?? "", /^\d\d:\d\d$/, "shown as HH:MM");
  }
  // The author's name is on the line, and a sent message ends the typing notice.
  assert.equal(await alice.locator("#messages li.message .author").first().textContent(), "bob");
  await until(alice, "the typing notice to clear", () => document.querySelector("#typing")?.textContent === "");

  // Bob leaves: alice sees him go and the count drop.
  await bob.getByRole("button", { name: "Leave room", exact: true }).click();
  await until(alice, "bob gone from the presence list", () => !document.querySelector('#presence li[data-user="bob"]'));
  await roomCount(alice, "lounge", 1);
});

scenario("older messages load when scrolling up, each once and in order", async ({ page, cli }) => {
  const bob = cli();
  await bob.login("bob", "bob123");
  for (let i = 1; i <= 70; i++) await bob.send("general", `old ${i}`);
  const alice = await page("alice");
  await login(alice, "alice", "alice123");
  await seeMessage(alice, "old 70");
  const first = (await messages(alice)).length;
  assert.ok(first < 70, `a first join shows the newest page only (${first})`);

  const older = alice.getByRole("button", { name: "Load older messages" });
  for (let round = 0; round < 10 && (await older.isVisible()); round++) {
    const before = (await messages(alice)).length;
    await alice.locator("#messages").evaluate((list) => list.scrollTo(0, 0));
    await until(
      alice,
      "older messages after scrolling to the top",
      ([before]) => {
        const now = document.querySelectorAll("#messages li.message").length;
        const button = [...document.querySelectorAll("button")].find((b) => b.textContent === "Load older messages");
        return now > before || !button || button.hidden;
      },
      [before],
    );
  }
  const all = await messages(alice);
  assert.deepEqual(
    all.map((m) => m.text),
    Array.from({ length: 70 }, (_, i) => `old ${i + 1}`),
  );
  assert.equal(new Set(all.map((m) => m.id)).size, 70, "each message once");
  assert.ok(await older.isHidden(), "no button when there is nothing older");
});
