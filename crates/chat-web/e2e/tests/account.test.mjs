// Signing in and out: where the token lives, and where it must never be.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import { eventually, joinRoom, login, mainScreen, visible } from "../harness/helpers.mjs";

/** Every localStorage value, to look for the token without knowing the key. */
function storedValues(page) {
  return page.evaluate(() => Object.keys(localStorage).map((key) => `${key}=${localStorage.getItem(key)}`));
}

scenario("logout returns to the sign-in form and forgets the token, which never shows in the URL", async ({ server, page }) => {
  const alice = await page("alice");
  const urls = [];
  alice.on("framenavigated", (frame) => urls.push(frame.url()));
  const answer = alice.waitForResponse((response) => response.url().endsWith("/auth/login"));
  await login(alice, "alice", "alice123");
  const { token } = await (await answer).json();
  assert.ok(typeof token === "string" && token.length > 20, "a token came back");

  assert.ok((await storedValues(alice)).some((entry) => entry.includes(token)), "kept in localStorage");
  assert.ok(!alice.url().includes(token), "not in the address bar after login");

  // Moving around and reloading keeps the session and the clean address.
  await joinRoom(alice, "elsewhere");
  await joinRoom(alice, "general");
  await alice.reload();
  await mainScreen(alice, "alice");
  await alice.goto("/?from=bookmark#top");
  await mainScreen(alice, "alice");
  for (const url of [...urls, alice.url()]) assert.ok(!url.includes(token), `no token in ${url}`);

  // A token the server still takes: the WebSocket endpoint does not say 401.
  const before = await fetch(`${server.url}/ws`, { headers: { authorization: `Bearer ${token}` } });
  assert.notEqual(before.status, 401);

  await alice.getByRole("button", { name: "Log out", exact: true }).click();
  const form = await visible(alice.getByRole("form", { name: "Sign in" }));
  await visible(form.getByLabel("Username", { exact: true }));
  assert.equal(await alice.locator("#me").count(), 0, "the main screen is gone");
  assert.deepEqual(
    (await storedValues(alice)).filter((entry) => entry.includes(token)),
    [],
    "the token is no longer in localStorage",
  );
  // The server no longer takes it either.
  await eventually("the server to refuse the token", async () => {
    const response = await fetch(`${server.url}/ws`, { headers: { authorization: `Bearer ${token}` } });
    return response.status === 401;
  });

  // A reload stays signed out.
  await alice.reload();
  await visible(alice.getByRole("form", { name: "Sign in" }));
  for (const url of [...urls, alice.url()]) assert.ok(!url.includes(token), `no token in ${url}`);
});

scenario("the sign-in form explains refusals and registers new accounts", async ({ page }) => {
  const carol = await page("carol");
  await carol.goto("/");
  const form = await visible(carol.getByRole("form", { name: "Sign in" }));
  await form.getByLabel("Username", { exact: true }).fill("alice");
  await form.getByLabel("Password", { exact: true }).fill("not-her-password");
  await form.getByRole("button", { name: "Log in", exact: true }).click();
  await visible(carol.locator('#login-error[role="alert"]', { hasText: "wrong username or password" }));

  await form.getByLabel("Username", { exact: true }).fill("alice");
  await form.getByLabel("Password", { exact: true }).fill("some-long-password");
  await form.getByRole("button", { name: "Register", exact: true }).click();
  await visible(carol.locator('#login-error[role="alert"]', { hasText: "taken" }));

  await form.getByLabel("Username", { exact: true }).fill("carol");
  await form.getByLabel("Password", { exact: true }).fill("carol-secret-1");
  await form.getByRole("button", { name: "Register", exact: true }).click();
  await mainScreen(carol, "carol");
  assert.equal(await carol.locator("#role").textContent(), "user");
});

scenario("logging out in one tab ends the session in another tab with the same token", async ({ page }) => {
  const first = await page("first-tab");
  await login(first, "alice", "alice123");
  // A second tab of the same browser profile: the same stored account.
  const second = await page("second-tab");
  await second.goto("/");
  await visible(second.getByRole("form", { name: "Sign in" }));
  const stored = await first.evaluate(() => Object.entries(localStorage));
  await second.evaluate((entries) => entries.forEach(([key, value]) => localStorage.setItem(key, value)), stored);
  await second.reload();
  await mainScreen(second, "alice");

  // The server closes the other tab's socket (4002); its reconnect is
  // refused (401), which a browser cannot see but the page asks about.
  await first.getByRole("button", { name: "Log out", exact: true }).click();
  await visible(first.getByRole("form", { name: "Sign in" }));
  await visible(second.getByRole("form", { name: "Sign in" }));
  await visible(second.locator("#login-error", { hasText: "Your session has ended; log in again." }));
});
