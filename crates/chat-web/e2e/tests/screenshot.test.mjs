// The picture of the main screen in the docs: two people chatting at
// 1280x800, with a topic, a reaction, a reply and an unread direct
// message. Saved as an artifact on every run; UPDATE_SCREENSHOT=1 also
// refreshes docs/images/web-client.png.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { scenario } from "../harness/scenario.mjs";
import { artifacts, repo } from "../harness/paths.mjs";
import {
  directId,
  joinRoom,
  login,
  messageItem,
  openDirect,
  seeMessage,
  sendMessage,
  unreadBadge,
  until,
} from "../harness/helpers.mjs";

scenario("a screenshot of two people chatting", async ({ page }) => {
  const size = { viewport: { width: 1280, height: 800 }, timezoneId: "UTC", colorScheme: "light" };
  const alice = await page("alice", size);
  const bob = await page("bob", size);
  await login(alice, "alice", "alice123");
  await login(bob, "bob", "bob123");
  await joinRoom(bob, "rust");
  await joinRoom(alice, "rust");

  await bob.getByRole("button", { name: "Set topic", exact: true }).click();
  await bob.getByLabel("Topic", { exact: true }).fill("Rust, WebAssembly, and this chat's own code");
  await bob.getByRole("button", { name: "Save topic", exact: true }).click();
  await until(alice, "the topic", () => document.querySelector("#room-topic")?.textContent.startsWith("Rust,"));

  const lines = [
    [bob, "Anyone tried the web client yet?"],
    [alice, "Yes: it is the same client library as the terminal one, compiled to WebAssembly."],
    [bob, "So reconnecting and catching up work the same way?"],
    [alice, "Exactly the same code. Restart the server and watch it come back."],
  ];
  for (const [who, text] of lines) {
    await sendMessage(who, text);
    await seeMessage(who === alice ? bob : alice, text);
  }
  // A reaction, a reply with its quote, and an unread direct message.
  await messageItem(bob, lines[3][1]).getByRole("button", { name: "React", exact: true }).click();
  await bob.getByRole("button", { name: "React with 🎉" }).click();
  await messageItem(bob, lines[1][1]).getByRole("button", { name: "Reply", exact: true }).click();
  await sendMessage(bob, "@alice the same reconnect code, nice");
  await seeMessage(alice, "@alice the same reconnect code, nice", "bob");
  await until(alice, "the reaction", () => document.querySelector("#messages button.reaction"));
  const moderator = await page("moderator", size);
  await login(moderator, "moderator", "mod123");
  await openDirect(moderator, "alice");
  await sendMessage(moderator, "Could you review the release notes?");
  await unreadBadge(alice, directId("alice", "moderator"), 1);

  await bob.getByLabel("Message", { exact: true }).pressSequentially("Nice");
  await until(alice, "bob's typing notice", () => document.querySelector("#typing")?.textContent === "bob is typing…");
  await alice.getByLabel("Message", { exact: true }).focus();

  mkdirSync(artifacts, { recursive: true });
  const shot = join(artifacts, "main-screen.png");
  await alice.screenshot({ path: shot });
  assert.ok(statSync(shot).size > 10_000, "a real picture");
  if (process.env.UPDATE_SCREENSHOT === "1") copyFileSync(shot, join(repo, "docs/images/web-client.png"));
});
