// Signing in and out, where the token lives, a phone-sized screen, the
// keyboard, and the screenshot in the README.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { startServer } from "../harness/server.mjs";
import { launch } from "../harness/browser.mjs";
import { artifacts, repo } from "../harness/paths.mjs";
import { PATIENCE, openRoom, register, seeMessage, send, signIn } from "../harness/chat.mjs";

test("register, reload, log out: the token stays in storage, never in the URL", async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const page = await browser.page();
    await register(page, server.url, "carol", "carol-secret-1");
    const stored = await page.evaluate(() => localStorage.getItem("bidirectional-chat.account"));
    const token = JSON.parse(stored).token;
    assert.ok(token.length > 20);
    assert.ok(!page.url().includes(token), "not in the address bar");

    await page.reload();
    await page.locator("#me", { hasText: "carol" }).waitFor({ timeout: PATIENCE });
    assert.ok(!page.url().includes(token));

    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("form", { name: "Sign in" }).waitFor({ timeout: PATIENCE });
    assert.equal(await page.evaluate(() => localStorage.getItem("bidirectional-chat.account")), null);
    // The server revoked it too.
    const response = await fetch(`${server.url}/ws`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 401);

    await page.getByLabel("Username", { exact: true }).fill("carol");
    await page.getByLabel("Password", { exact: true }).fill("wrong-password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.locator("#login-error", { hasText: "wrong username or password" }).waitFor({ timeout: PATIENCE });
    browser.assertClean();
  } finally {
    await browser.close();
    await server.dispose();
  }
});

test("on a phone-sized screen, by keyboard alone", async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const page = await browser.page({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    await signIn(page, server.url, "alice", "alice123");
    for (const name of ["Rooms", "Messages"]) {
      const region = name === "Rooms" ? page.getByRole("navigation", { name }) : page.getByRole("log", { name });
      assert.ok(await region.isVisible(), `${name} visible`);
    }
    const box = await page.getByLabel("Message", { exact: true }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 375, "the message box fits the width");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling (${overflow}px)`);

    // Tab from the top of the page to the message box, then Enter sends.
    await page.locator("body").click({ position: { x: 1, y: 1 } });
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = await page.evaluate(() => document.activeElement?.id === "message");
    }
    assert.ok(reached, "the message box is reachable with Tab");
    await page.keyboard.type("typed without a mouse");
    await page.keyboard.press("Enter");
    await seeMessage(page, "typed without a mouse");
    browser.assertClean();
  } finally {
    await browser.close();
    await server.dispose();
  }
});

test("a screenshot of the main screen", async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const alice = await browser.page();
    const bob = await browser.page();
    await signIn(alice, server.url, "alice", "alice123");
    await signIn(bob, server.url, "bob", "bob123");
    await openRoom(alice, "rust");
    await openRoom(bob, "rust");
    await send(bob, "Anyone tried the web client yet?");
    await seeMessage(alice, "Anyone tried the web client yet?");
    await send(alice, "Yes: it is the same client library, compiled to WebAssembly.");
    await seeMessage(bob, "compiled to WebAssembly");
    await bob.getByLabel("Message", { exact: true }).pressSequentially("Nice");
    await alice.locator("#typing", { hasText: "bob is typing…" }).waitFor({ timeout: PATIENCE });
    mkdirSync(artifacts, { recursive: true });
    const shot = join(artifacts, "main-screen.png");
    await alice.screenshot({ path: shot });
    if (process.env.UPDATE_SCREENSHOT === "1") copyFileSync(shot, join(repo, "docs/images/web-client.png"));
    browser.assertClean();
  } finally {
    await browser.close();
    await server.dispose();
  }
});
