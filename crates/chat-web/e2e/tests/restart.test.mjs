// The server restarts while the page is open: the page says it is
// reconnecting, comes back by itself, and shows what it missed, once.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import { Gate } from "../harness/gate.mjs";
import { connection, eventually, login, messages, openDirect, seeMessage, sendMessage } from "../harness/helpers.mjs";

scenario("after a server restart the page catches up, each message exactly once", async ({ server, browser, cli }) => {
  // Alice's page reaches the server through a gate, so bob can provably
  // send while her page is still trying to reconnect.
  const gate = await new Gate(server).listen();
  try {
    const alice = await browser.newPage(gate, { label: "alice" });
    await login(alice, "alice", "alice123");
    const bob = cli();
    await bob.login("bob", "bob123");
    await bob.send("general", "before the restart");
    await seeMessage(alice, "before the restart", "bob");

    gate.hold();
    await server.stop();
    await connection(alice, "reconnecting…");
    await server.start();
    const missed = ["missed one", "missed two", "missed three"];
    for (const text of missed) await bob.send("general", text);
    // Still held at the gate: the page has not caught up by itself.
    assert.equal(await alice.locator("#connection").textContent(), "reconnecting…");
    await eventually("a reconnect attempt waiting at the gate", () => gate.waitingCount > 0);
    gate.release();
    await connection(alice, "connected");
    await bob.send("general", "after the restart");
    await seeMessage(alice, "after the restart", "bob");

    const shown = await messages(alice);
    const expected = ["before the restart", ...missed, "after the restart"];
    for (const text of expected) {
      assert.equal(shown.filter((m) => m.text === text).length, 1, `${JSON.stringify(text)} shown exactly once`);
    }
    assert.deepEqual(
      shown.map((m) => m.text),
      expected,
    );
    const ids = shown.map((m) => Number(m.id));
    assert.equal(new Set(ids).size, ids.length, "no data-message-id twice");
    assert.deepEqual(
      [...ids].sort((a, b) => a - b),
      ids,
      "in id order",
    );
  } finally {
    await gate.close();
  }
});

scenario("after a server restart a direct conversation catches up too, each message once", async ({ server, browser, page }) => {
  const gate = await new Gate(server).listen();
  try {
    const alice = await browser.newPage(gate, { label: "alice" });
    await login(alice, "alice", "alice123");
    const bob = await page("bob");
    await login(bob, "bob", "bob123");
    await openDirect(alice, "bob");
    await openDirect(bob, "alice");
    await sendMessage(alice, "before the restart");
    await seeMessage(bob, "before the restart", "alice");

    gate.hold();
    await server.stop();
    await connection(alice, "reconnecting…");
    await server.start();
    await connection(bob, "connected");
    await sendMessage(bob, "missed while you were away");
    await eventually("a reconnect attempt waiting at the gate", () => gate.waitingCount > 0);
    gate.release();
    await connection(alice, "connected");
    await sendMessage(bob, "after the restart");
    await seeMessage(alice, "after the restart", "bob");
    assert.deepEqual(
      (await messages(alice)).map((m) => m.text),
      ["before the restart", "missed while you were away", "after the restart"],
    );
  } finally {
    await gate.close();
  }
});
