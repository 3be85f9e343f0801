// The terminal client and a browser in the same room: each sees the other.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import { joinRoom, login, messages, seeMessage, sendMessage } from "../harness/helpers.mjs";

scenario("the terminal client and a browser share a room", async ({ page, cli }) => {
  const alice = await page("alice");
  await login(alice, "alice", "alice123");
  await joinRoom(alice, "terminals");
  const bob = cli();
  await bob.login("bob", "bob123");

  const sentId = (await bob.send("terminals", "sent from a terminal")).trim();
  await seeMessage(alice, "sent from a terminal", "bob");
  const fromTerminal = (await messages(alice)).find((m) => m.text === "sent from a terminal");
  assert.equal(fromTerminal.id, sentId, "the id the terminal printed");
  assert.equal(fromTerminal.own, false);

  await sendMessage(alice, "sent from a browser");
  const history = await bob.history("terminals");
  assert.deepEqual(
    history.map((m) => [m.username, m.text]),
    [
      ["bob", "sent from a terminal"],
      ["alice", "sent from a browser"],
    ],
  );
  const fromBrowser = (await messages(alice)).find((m) => m.text === "sent from a browser");
  assert.equal(String(history[1].message_id), fromBrowser.id, "the same message, once");

  // An account registered from the terminal shows up in the browser too.
  const dave = cli();
  await dave.register("dave", "dave-secret-1");
  await dave.login("dave", "dave-secret-1");
  await dave.send("terminals", "new here");
  await seeMessage(alice, "new here", "dave");
});
