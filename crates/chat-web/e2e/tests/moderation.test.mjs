// Kick and ban as the people involved see them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../harness/server.mjs";
import { launch } from "../harness/browser.mjs";
import { PATIENCE, seeMessage, send, signIn, waitForConnection } from "../harness/chat.mjs";

async function moderate(page, action, user, reason, length) {
  const panel = page.getByRole("region", { name: "Moderation" });
  await panel.getByLabel("User", { exact: true }).fill(user);
  await panel.getByLabel("Reason", { exact: true }).fill(reason);
  if (length) await panel.getByLabel("Ban duration").selectOption(length);
  await panel.getByRole("button", { name: action, exact: true }).click();
}

test("a kick is shown with its reason, and Reconnect brings the user back", async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const moderator = await browser.page();
    const bob = await browser.page();
    const alice = await browser.page();
    await signIn(moderator, server.url, "moderator", "mod123");
    await signIn(bob, server.url, "bob", "bob123");
    await signIn(alice, server.url, "alice", "alice123");
    assert.equal(await alice.getByRole("region", { name: "Moderation" }).count(), 0, "no moderation for users");
    assert.equal(await alice.getByRole("button", { name: "Kick" }).count(), 0);

    await moderate(moderator, "Kick", "bob", "shouting");
    await bob.locator("#notice", { hasText: "You were kicked: shouting" }).waitFor({ timeout: PATIENCE });
    await waitForConnection(bob, "offline");
    await alice.locator("#messages li.system", { hasText: "bob was kicked: shouting" }).waitFor({ timeout: PATIENCE });

    await bob.getByRole("button", { name: "Reconnect" }).click();
    await waitForConnection(bob, "connected");
    await send(alice, "welcome back");
    await seeMessage(bob, "welcome back");
    browser.assertClean();
  } finally {
    await browser.close();
    await server.dispose();
  }
});

test("a ban says until when, and the page stays signed out of chat", async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const moderator = await browser.page();
    const bob = await browser.page();
    await signIn(moderator, server.url, "moderator", "mod123");
    await signIn(bob, server.url, "bob", "bob123");
    await moderate(moderator, "Ban", "bob", "spam", "1 hour");
    await bob.locator("#notice", { hasText: /You are banned until \d{4}-\d\d-\d\d \d\d:\d\d: spam/ }).waitFor({ timeout: PATIENCE });
    await waitForConnection(bob, "offline");
    assert.ok(await bob.getByRole("button", { name: "Reconnect" }).isHidden(), "no way back from a ban");

    // The page forgot the token; signing in again explains the ban.
    await bob.reload();
    await bob.getByLabel("Username", { exact: true }).fill("bob");
    await bob.getByLabel("Password", { exact: true }).fill("bob123");
    await bob.getByRole("button", { name: "Log in" }).click();
    await bob.locator("#login-error", { hasText: /banned until/ }).waitFor({ timeout: PATIENCE });

    await moderate(moderator, "Unban", "bob", "spam");
    await moderator.locator("#notice", { hasText: "bob is no longer banned." }).waitFor({ timeout: PATIENCE });
    browser.assertClean();
  } finally {
    await browser.close();
    await server.dispose();
  }
});
