// The server restarts while the page is open: the page reconnects by
// itself and shows what it missed, once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../harness/server.mjs";
import { launch } from "../harness/browser.mjs";
import { Cli } from "../harness/cli.mjs";
import { messages, seeMessage, signIn, waitForConnection } from "../harness/chat.mjs";

test("after a server restart the page catches up, each message once", async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const alice = await browser.page();
    await signIn(alice, server.url, "alice", "alice123");
    const bob = new Cli(server);
    await bob.login("bob", "bob123");
    await bob.send("general", "before the restart");
    await seeMessage(alice, "before the restart");

    await server.stop();
    await waitForConnection(alice, "reconnecting");
    await server.start();
    // Sent as soon as the server is back, racing the page's reconnect.
    for (const text of ["missed one", "missed two", "missed three"]) await bob.send("general", text);
    await waitForConnection(alice, "connected");
    await bob.send("general", "after the restart");
    await seeMessage(alice, "after the restart");

    const texts = (await messages(alice)).map((m) => m.text);
    assert.deepEqual(texts, ["before the restart", "missed one", "missed two", "missed three", "after the restart"]);
    const ids = (await messages(alice)).map((m) => m.id);
    assert.deepEqual([...ids].sort((a, b) => a - b), ids, "in id order");
    browser.assertClean();
  } finally {
    await browser.close();
    await server.dispose();
  }
});
