// Kick and ban from the browser's moderation panel, as the people involved
// see them.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import { connection, eventually, joinRoom, login, notice, seeMessage, sendMessage, until, visible } from "../harness/helpers.mjs";

async function moderate(page, action, user, reason, duration) {
  const panel = await visible(page.getByRole("region", { name: "Moderation" }));
  await panel.getByLabel("User", { exact: true }).fill(user);
  await panel.getByLabel("Reason", { exact: true }).fill(reason);
  if (duration) await panel.getByRole("combobox", { name: "Ban duration", exact: true }).selectOption({ label: duration });
  await panel.getByRole("button", { name: action, exact: true }).click();
}

scenario("a kick shows its reason, goes offline, and Reconnect brings the user back", async ({ page }) => {
  const moderator = await page("moderator");
  const bob = await page("bob");
  const alice = await page("alice");
  await login(moderator, "moderator", "mod123");
  await login(bob, "bob", "bob123");
  await login(alice, "alice", "alice123");

  // Users have no moderation controls at all, not merely hidden ones.
  assert.equal(await alice.locator('section[aria-label="Moderation"]').count(), 0, "no moderation panel for alice");
  for (const name of ["Kick", "Ban", "Unban"]) {
    assert.equal(await alice.getByRole("button", { name, exact: true, includeHidden: true }).count(), 0, `no ${name}`);
  }
  const durations = await moderator
    .getByRole("region", { name: "Moderation" })
    .getByRole("combobox", { name: "Ban duration", exact: true })
    .locator("option")
    .allTextContents();
  assert.deepEqual(durations, ["10 minutes", "1 hour", "1 day", "1 week", "permanent"]);

  await moderate(moderator, "Kick", "bob", "shouting");
  await notice(bob, "You were kicked: shouting");
  await connection(bob, "offline");
  await visible(bob.getByRole("button", { name: "Reconnect", exact: true }));
  // The others see a system line about it, and bob gone.
  await until(alice, "a system line about the kick", () =>
    [...document.querySelectorAll("#messages li.system")].some((li) => li.textContent.includes("bob")),
  );
  await until(alice, "bob gone from the presence list", () => !document.querySelector('#presence li[data-user="bob"]'));

  await bob.getByRole("button", { name: "Reconnect", exact: true }).click();
  await connection(bob, "connected");
  await until(bob, "the Reconnect button to go", () => {
    const button = [...document.querySelectorAll("button")].find((b) => b.textContent === "Reconnect");
    return !button || button.hidden || button.offsetParent === null;
  });
  await sendMessage(alice, "welcome back");
  await seeMessage(bob, "welcome back", "alice");
});

scenario("a ban says until when, and there is no Reconnect", async ({ page }) => {
  const moderator = await page("moderator");
  // UTC, so the time on the page can be checked against the clock here.
  const bob = await page("bob", { timezoneId: "UTC" });
  await login(moderator, "moderator", "mod123");
  await login(bob, "bob", "bob123");

  const bannedAt = Date.now();
  await moderate(moderator, "Ban", "bob", "spam", "1 hour");
  const said = await notice(bob, /banned until .+: spam/);
  await connection(bob, "offline");
  assert.ok(await bob.getByRole("button", { name: "Reconnect", exact: true }).isHidden(), "no way back from a ban");

  const [, when] = said.match(/until (\d{4}-\d\d-\d\d[ T]\d\d:\d\d)/) ?? [];
  assert.ok(when, `a date and time in the notice: ${said}`);
  const endsAt = Date.parse(`${when.replace(" ", "T")}:00Z`);
  const hour = 3_600_000;
  assert.ok(Math.abs(endsAt - (bannedAt + hour)) <= 2 * 60_000, `about an hour from now: ${said}`);

  // Signing in again is refused with the same explanation.
  await bob.goto("/");
  const form = await visible(bob.getByRole("form", { name: "Sign in" }));
  await form.getByLabel("Username", { exact: true }).fill("bob");
  await form.getByLabel("Password", { exact: true }).fill("bob123");
  await form.getByRole("button", { name: "Log in", exact: true }).click();
  await visible(bob.locator("#login-error", { hasText: /banned until/ }));

  // Unban lets him back in.
  const before = await moderator.locator("#notice").textContent();
  await moderate(moderator, "Unban", "bob", "served");
  await until(moderator, "an answer to the unban", (before) => document.querySelector("#notice")?.textContent !== before, before);
  await login(bob, "bob", "bob123");
});

scenario("an admin deletes a room after confirming; people in it are told", async ({ page, browser }) => {
  const admin = await page("admin");
  const alice = await page("alice");
  await login(admin, "admin", "admin123");
  await login(alice, "alice", "alice123");
  await joinRoom(alice, "doomed");
  await joinRoom(admin, "doomed");

  browser.expectConfirm(admin);
  await admin.getByRole("region", { name: "Moderation" }).getByRole("button", { name: "Delete room", exact: true }).click();
  await eventually("the confirm question", () => browser.answered.length === 1);
  assert.match(browser.answered[0], /doomed/, "the question names the room");
  await notice(alice, "doomed");
  // Alice is back in a room that still exists and can go on chatting.
  await until(alice, "another current room", () => document.querySelector('nav li[aria-current="true"]')?.dataset.room === "general");
  await sendMessage(alice, "still here");
  // A deleted room is no longer offered (clicking it would create it anew).
  for (const someone of [alice, admin]) {
    await until(someone, "the deleted room gone from the room list", () => !document.querySelector('nav li[data-room="doomed"]'));
  }
});
