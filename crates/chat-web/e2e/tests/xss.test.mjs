// Hostile text wherever a user can put text: shown as typed, never run,
// never turned into elements.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import {
  joinRoom,
  login,
  messageItem,
  messages,
  notice,
  seeMessage,
  sendMessage,
  until,
  visible,
} from "../harness/helpers.mjs";

const payloads = [
  `<img src=x onerror="window.__pwned=1">`,
  `<script>window.__pwned=1</script>`,
  `javascript:alert(1)`,
  `\u202Egnp.exe`,
  `<a href="javascript:window.__pwned=1">click</a>`,
  `<svg onload="window.__pwned=1"></svg>`,
];

/** Nothing ran, and nothing in the app came from user text. */
async function assertInert(page) {
  assert.equal(await page.evaluate(() => window.__pwned), undefined, `${page.label}: no payload ran`);
  const inMessages = await page.$$eval("#messages img, #messages script, #messages a[href^='javascript:' i]", (found) =>
    found.map((element) => element.outerHTML),
  );
  assert.deepEqual(inMessages, [], `${page.label}: no <img>, <script> or javascript: link in #messages`);
  const anywhere = await page.$$eval(
    "#app img, #app script, #app iframe, #app object, #app embed, #app a[href^='javascript:' i], #app [onerror], #app [onload], #app [onclick]",
    (found) => found.map((element) => element.outerHTML),
  );
  assert.deepEqual(anywhere, [], `${page.label}: no active element anywhere in the app`);
}

scenario("markup, script links and direction overrides stay literal text", async ({ page }) => {
  const alice = await page("alice");
  const admin = await page("admin");
  await login(alice, "alice", "alice123");
  await login(admin, "admin", "admin123");

  // Messages.
  for (const payload of payloads) await sendMessage(alice, payload);
  await seeMessage(admin, payloads.at(-1), "alice");
  for (const someone of [alice, admin]) {
    assert.deepEqual(
      (await messages(someone)).map((m) => m.text),
      payloads,
      `${someone.label} shows every payload as typed`,
    );
  }
  // The right-to-left override stays inside the message text: the text
  // element isolates its direction from the author and time beside it.
  const bidi = await admin.evaluate((payload) => {
    const text = [...document.querySelectorAll("#messages li.message .text")].find((t) => t.textContent === payload);
    return [text?.textContent, text && getComputedStyle(text).unicodeBidi];
  }, payloads[3]);
  assert.equal(bidi[0], "\u202Egnp.exe");
  assert.ok(["isolate", "isolate-override", "plaintext"].includes(bidi[1]), `bidi isolated (${bidi[1]})`);

  // A reply quotes it, a search finds it, and a mention elsewhere shows it:
  // as text each time.
  await messageItem(admin, payloads[0]).getByRole("button", { name: "Reply", exact: true }).click();
  await sendMessage(admin, "quoting it");
  await until(alice, "the quote as text", (text) =>
    document.querySelector("#messages li.message[data-reply-to] .reply-quote")?.textContent === `↪ alice: ${text}`, payloads[0]);
  const search = admin.getByRole("search", { name: "Search" });
  await search.getByLabel("Search messages", { exact: true }).fill("onerror");
  await search.getByRole("button", { name: "Search", exact: true }).click();
  await until(admin, "the search result as text", (text) =>
    [...document.querySelectorAll("#search-list li.result .text")].some((t) => t.textContent === text), payloads[0]);
  await joinRoom(admin, "elsewhere");
  await sendMessage(admin, `@alice ${payloads[1]}`);
  await until(alice, "the mention banner as text", (text) =>
    [...document.querySelectorAll('.mentioned[role="status"]')].some((b) => b.textContent.includes(text)), payloads[1]);
  await joinRoom(admin, "general");

  // A display name, as its owner saves it and as someone else sees it.
  await alice.getByRole("button", { name: "Profile", exact: true }).click();
  const own = await visible(alice.getByRole("dialog", { name: "Profile" }));
  await own.getByLabel("Display name", { exact: true }).fill(payloads[0]);
  await own.getByRole("button", { name: "Save", exact: true }).click();
  await notice(alice, "saved");
  await admin.locator('#presence li[data-user="alice"]').getByText("alice", { exact: true }).click();
  const seen = await visible(admin.getByRole("dialog", { name: "Profile" }));
  await until(admin, "alice's display name in her profile", (name) =>
    [...document.querySelectorAll("dialog input")].some((input) => input.value === name), payloads[0]);
  assert.equal(await seen.getByLabel("Display name", { exact: true }).inputValue(), payloads[0]);
  assert.ok(await seen.getByLabel("Display name", { exact: true }).isDisabled(), "someone else's profile is read-only");
  await seen.getByRole("button", { name: "Close", exact: true }).click();

  // An announcement.
  const panel = admin.getByRole("region", { name: "Moderation" });
  await panel.getByLabel("Announcement", { exact: true }).fill(payloads[1]);
  await panel.getByRole("button", { name: "Announce", exact: true }).click();
  await until(alice, "the announcement as text", (text) =>
    [...document.querySelectorAll('.announcement[role="status"]')].some((a) => a.textContent.includes(text)), payloads[1]);

  // Room names: the protocol allows only letters, digits, '-' and '_', so
  // the page refuses markup before it reaches the server, and says so.
  const rooms = await alice.locator("#rooms li[data-room]").count();
  for (const name of [payloads[0], payloads[2]]) {
    const form = alice.getByRole("form", { name: "Create room" });
    await form.getByLabel("New room name", { exact: true }).fill(name);
    await form.getByRole("button", { name: "Create", exact: true }).click();
    await notice(alice, "room name");
    assert.equal(await alice.locator("#rooms li[data-room]").count(), rooms, "no new room");
  }

  for (const someone of [alice, admin]) await assertInert(someone);
});
