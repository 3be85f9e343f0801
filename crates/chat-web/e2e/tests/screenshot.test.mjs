// The picture of the main screen in the docs: two people chatting at
// 1280x800. Saved as an artifact on every run; UPDATE_SCREENSHOT=1 also
// refreshes docs/images/web-client.png.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { scenario } from "../harness/scenario.mjs";
import { artifacts, repo } from "../harness/paths.mjs";
import { joinRoom, login, seeMessage, sendMessage, until } from "../harness/helpers.mjs";

scenario("a screenshot of two people chatting", async ({ page }) => {
  const size = { viewport: { width: 1280, height: 800 }, timezoneId: "UTC", colorScheme: "light" };
  const alice = await page("alice", size);
  const bob = await page("bob", size);
  await login(alice, "alice", "alice123");
  await login(bob, "bob", "bob123");
  await joinRoom(bob, "rust");
  await joinRoom(alice, "rust");

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
  await bob.getByLabel("Message", { exact: true }).pressSequentially("Nice");
  await until(alice, "bob's typing notice", () => document.querySelector("#typing")?.textContent === "bob is typing…");
  await alice.getByLabel("Message", { exact: true }).focus();

  mkdirSync(artifacts, { recursive: true });
  const shot = join(artifacts, "main-screen.png");
  await alice.screenshot({ path: shot });
  assert.ok(statSync(shot).size > 10_000, "a real picture");
  if (process.env.UPDATE_SCREENSHOT === "1") copyFileSync(shot, join(repo, "docs/images/web-client.png"));
});
