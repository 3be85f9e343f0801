// Hostile text in every place a user can put text: shown, never run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../harness/server.mjs";
import { launch } from "../harness/browser.mjs";
import { PATIENCE, messages, seeMessage, send, signIn } from "../harness/chat.mjs";

const payloads = [
  `<img src=x onerror="window.__pwned=1">`,
  `<script>window.__pwned=1</script>`,
  `javascript:window.__pwned=1`,
  `<a href="javascript:window.__pwned=1">click</a>`,
  `\u202Egnp.exe`,
  `<svg onload="window.__pwned=1"></svg>`,
];

async function assertInert(page) {
  assert.equal(await page.evaluate(() => window.__pwned), undefined, "no payload ran");
  const active = await page.$$eval(
    "#app img, #app script, #app iframe, #app a[href^='javascript'], #app [onerror], #app [onload]",
    (found) => found.map((element) => element.outerHTML),
  );
  assert.deepEqual(active, [], "no element came from user text");
}

test("markup, script links and direction overrides stay text everywhere", async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const alice = await browser.page();
    const admin = await browser.page();
    await signIn(alice, server.url, "alice", "alice123");
    await signIn(admin, server.url, "admin", "admin123");

    // Messages.
    for (const payload of payloads) await send(alice, payload);
    await seeMessage(admin, payloads.at(-1));
    const texts = (await messages(admin)).map((m) => m.text);
    assert.deepEqual(texts, payloads);
    // The override is held inside its own element, not applied to the line.
    const isolated = await admin.$eval("#messages li.message:nth-last-child(2) .text", (span) => getComputedStyle(span).unicodeBidi);
    assert.equal(isolated, "isolate");

    // An announcement and a kick reason.
    const panel = admin.getByRole("region", { name: "Moderation" });
    await panel.getByLabel("Announcement", { exact: true }).fill(payloads[0]);
    await panel.getByRole("button", { name: "Announce" }).click();
    await alice.locator(".announcement span", { hasText: payloads[0] }).waitFor({ timeout: PATIENCE });

    // A display name, seen by someone else in the profile dialog.
    await alice.getByRole("button", { name: "Profile" }).click();
    const own = alice.getByRole("dialog", { name: "Profile" });
    await own.getByLabel("Display name").fill(payloads[1]);
    await own.getByRole("button", { name: "Save" }).click();
    await alice.locator("#notice", { hasText: "Profile saved." }).waitFor({ timeout: PATIENCE });
    await admin.locator('#presence button[data-user="alice"]').click();
    const seen = admin.getByRole("dialog", { name: "Profile" });
    await seen.locator("h2", { hasText: "alice" }).waitFor({ timeout: PATIENCE });
    assert.equal(await seen.getByLabel("Display name").inputValue(), payloads[1]);
    assert.ok(await seen.getByLabel("Display name").isDisabled(), "someone else's profile is read-only");
    await seen.getByRole("button", { name: "Close" }).click();

    // A room name with markup is refused before it reaches the server.
    await alice.getByLabel("New room name").fill(`<b>x</b>`);
    await alice.getByRole("button", { name: "Create" }).click();
    await alice.locator("#notice", { hasText: "That room name cannot be used" }).waitFor({ timeout: PATIENCE });

    for (const page of [alice, admin]) await assertInert(page);
    browser.assertClean();
  } finally {
    await browser.close();
    await server.dispose();
  }
});
