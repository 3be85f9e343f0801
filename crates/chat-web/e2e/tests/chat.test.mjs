// Two people in two browsers, and a browser beside the terminal client.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../harness/server.mjs";
import { launch } from "../harness/browser.mjs";
import { Cli } from "../harness/cli.mjs";
import { PATIENCE, messages, openRoom, seeMessage, send, signIn } from "../harness/chat.mjs";

test("two browsers chat in a room both ways, with presence, typing and counts", async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const alice = await browser.page();
    const bob = await browser.page();
    await signIn(alice, server.url, "alice", "alice123");
    await signIn(bob, server.url, "bob", "bob123");
    await openRoom(alice, "lounge");
    await openRoom(bob, "lounge");

    // Presence: both see both; the room list counts them.
    for (const page of [alice, bob]) {
      await page.locator('#presence li[data-user="alice"]').waitFor({ timeout: PATIENCE });
      await page.locator('#presence li[data-user="bob"]').waitFor({ timeout: PATIENCE });
      await page.locator('nav li[data-room="lounge"] [data-count="2"]').waitFor({ timeout: PATIENCE });
    }

    // Typing shows for the other person only.
    await bob.getByLabel("Message", { exact: true }).pressSequentially("hel");
    await alice.locator("#typing", { hasText: "bob is typing…" }).waitFor({ timeout: PATIENCE });
    assert.equal(await bob.locator("#typing").textContent(), "");

    await send(bob, "hello alice");
    await seeMessage(alice, "hello alice");
    await send(alice, "hi bob");
    await seeMessage(bob, "hi bob");

    const seenByAlice = await messages(alice);
    const seenByBob = await messages(bob);
    assert.deepEqual(seenByAlice.map((m) => [m.author, m.text]), [["bob", "hello alice"], ["alice", "hi bob"]]);
    assert.deepEqual(seenByAlice.map((m) => m.own), [false, true]);
    assert.deepEqual(seenByBob.map((m) => m.own), [true, false]);
    assert.deepEqual(seenByAlice.map((m) => m.id), seenByBob.map((m) => m.id));
    for (const message of seenByAlice) assert.ok(!Number.isNaN(Date.parse(message.time)), `a time: ${message.time}`);
    // A sent message clears the typing notice.
    await alice.locator("#typing", { hasText: /^$/ }).waitFor({ timeout: PATIENCE });

    // Bob leaves: alice sees him go and the count drop.
    await bob.getByRole("button", { name: "Leave room" }).click();
    await alice.locator('#presence li[data-user="bob"]').waitFor({ state: "detached", timeout: PATIENCE });
    await alice.locator('nav li[data-room="lounge"] [data-count="1"]').waitFor({ timeout: PATIENCE });
    browser.assertClean();
  } finally {
    await browser.close();
    await server.dispose();
  }
});

test("the terminal client and a browser share a room", async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const alice = await browser.page();
    await signIn(alice, server.url, "alice", "alice123");
    const bob = new Cli(server);
    await bob.login("bob", "bob123");

    await bob.send("general", "sent from a terminal");
    await seeMessage(alice, "sent from a terminal");
    const fromTerminal = (await messages(alice)).find((m) => m.text === "sent from a terminal");
    assert.equal(fromTerminal.author, "bob");
    assert.equal(fromTerminal.own, false);

    await send(alice, "sent from a browser");
    await seeMessage(alice, "sent from a browser");
    const history = await bob.history("general");
    assert.match(history, /alice.*sent from a browser/);
    assert.ok(history.indexOf("sent from a terminal") < history.indexOf("sent from a browser"));
    browser.assertClean();
  } finally {
    await browser.close();
    await server.dispose();
  }
});

test("older messages load when scrolling up, each once and in order", async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const bob = new Cli(server);
    await bob.login("bob", "bob123");
    for (let i = 1; i <= 80; i++) await bob.send("general", `old ${i}`);
    const alice = await browser.page();
    await signIn(alice, server.url, "alice", "alice123");
    await seeMessage(alice, "old 80");
    const first = await messages(alice);
    assert.ok(first.length < 80, `a first join shows the newest page only (${first.length})`);

    while (!(await alice.locator("#older").isHidden())) {
      await alice.locator("#messages").evaluate((list) => list.scrollTo(0, 0));
      await alice.getByRole("button", { name: "Load older messages" }).click({ timeout: PATIENCE }).catch(() => {});
      await alice.waitForFunction(
        (count) => document.querySelectorAll("#messages li.message").length > count || document.querySelector("#older").hidden,
        first.length,
        { timeout: PATIENCE },
      );
    }
    const all = await messages(alice);
    assert.deepEqual(all.map((m) => m.text), Array.from({ length: 80 }, (_, i) => `old ${i + 1}`));
    assert.equal(new Set(all.map((m) => m.id)).size, 80);
    browser.assertClean();
  } finally {
    await browser.close();
    await server.dispose();
  }
});
