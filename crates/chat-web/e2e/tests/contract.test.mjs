// The page's promised structure (docs/web-client.md), checked literally:
// the other tests lean on it, this one says which promise broke.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import { joinRoom, login, notice, seeMessage, sendMessage, until, visible } from "../harness/helpers.mjs";

scenario("the main screen has the promised landmarks, ids, labels and controls", async ({ page }) => {
  const alice = await page("alice");
  await alice.goto("/");
  assert.equal(await alice.locator("main#app").count(), 1, "<main id=app>");
  const form = await visible(alice.getByRole("form", { name: "Sign in" }));
  for (const label of ["Username", "Password"]) await visible(form.getByLabel(label, { exact: true }));
  await visible(form.getByRole("button", { name: "Log in", exact: true }));
  await visible(form.getByRole("button", { name: "Register", exact: true }));
  assert.equal(await form.getByLabel("Server").count(), 0, "no server field: the page talks to its origin");
  assert.equal(await alice.locator('p#login-error[role="alert"]').count(), 1);

  await login(alice, "alice", "alice123");
  const header = alice.locator("header");
  assert.equal(await header.locator("span#me").textContent(), "alice");
  assert.equal(await header.locator("span#role").textContent(), "user");
  assert.equal(await header.locator("span#connection").textContent(), "connected");
  for (const name of ["Profile", "Log out"]) await visible(header.getByRole("button", { name, exact: true }));

  const rooms = alice.getByRole("navigation", { name: "Rooms" });
  const general = rooms.locator('ul > li[data-room="general"]');
  assert.equal(await general.locator("button").textContent(), "general");
  assert.equal(await general.getAttribute("aria-current"), "true");
  assert.ok(await general.evaluate((li) => li.classList.contains("joined")));
  assert.equal(await general.locator("span.count[data-count]").textContent(), "1");
  const create = rooms.getByRole("form", { name: "Create room" });
  await visible(create.getByLabel("New room name", { exact: true }));
  await visible(create.getByRole("button", { name: "Create", exact: true }));

  const unread = general.locator("span.unread[data-unread][data-mentions]");
  assert.ok(await unread.isHidden(), "no unread badge at zero");
  const direct = rooms.getByRole("form", { name: "Message a user" });
  await visible(direct.getByLabel("Username to message", { exact: true }));
  await visible(direct.getByRole("button", { name: "Message", exact: true }));
  assert.equal(await rooms.locator("ul#directs").count(), 1);
  const search = alice.getByRole("search", { name: "Search" });
  assert.equal(await search.evaluate((form) => form.tagName), "FORM");
  await visible(search.getByLabel("Search messages", { exact: true }));
  await visible(search.getByRole("button", { name: "Search", exact: true }));
  assert.ok(await alice.getByRole("region", { name: "Search results" }).isHidden(), "no results before a search");

  const room = alice.getByRole("region", { name: "Room" });
  await visible(room.getByRole("button", { name: "Set topic", exact: true }));
  assert.equal(await room.locator("p#room-topic").count(), 1);
  assert.ok(await room.locator("#composer-mode").isHidden(), "a new message, not a reply or an edit");
  await visible(room.getByRole("button", { name: "Leave room", exact: true }));
  const log = room.locator('ol#messages[role="log"][aria-label="Messages"]');
  assert.equal(await log.count(), 1);
  assert.equal(await room.locator('p#typing[aria-live="polite"]').count(), 1);
  const composer = room.getByRole("form", { name: "Send message" });
  assert.equal(await composer.getByLabel("Message", { exact: true }).evaluate((e) => e.tagName), "TEXTAREA");
  await visible(composer.getByRole("button", { name: "Send", exact: true }));
  await visible(alice.getByRole("complementary", { name: "Who is here" }).locator('ul#presence > li[data-user="alice"]'));
  assert.equal(await alice.locator('p#notice[role="alert"]').count(), 1);

  // Profile: the cat drawn inline, the four fields, Save and Close.
  await header.getByRole("button", { name: "Profile", exact: true }).click();
  const dialog = await visible(alice.getByRole("dialog", { name: "Profile" }));
  const cat = dialog.locator('svg.avatar[role="img"]');
  assert.match((await cat.getAttribute("aria-label")) ?? "", /^\S.* \S.* cat, \S+/, "the cat is described");
  await visible(dialog.getByRole("textbox", { name: "Display name", exact: true }));
  // Selects by role: a <label> wrapped around a <select> gives it the right
  // accessible name, but Playwright's getByLabel also reads the options.
  for (const name of ["Breed", "Colour", "Expression"]) await visible(dialog.getByRole("combobox", { name, exact: true }));
  for (const name of ["Save", "Close"]) await visible(dialog.getByRole("button", { name, exact: true }));
  // Another cat, saved, is the one drawn next time.
  const before = await cat.getAttribute("aria-label");
  const chosen = [];
  for (const name of ["Breed", "Colour", "Expression"]) {
    const select = dialog.getByRole("combobox", { name, exact: true });
    const values = await select.locator("option").evaluateAll((options) => options.map((o) => o.value));
    const next = values[(values.indexOf(await select.inputValue()) + 1) % values.length];
    await select.selectOption(next);
    chosen.push(next);
  }
  await dialog.getByRole("button", { name: "Save", exact: true }).click();
  await dialog.waitFor({ state: "hidden" });
  await header.getByRole("button", { name: "Profile", exact: true }).click();
  await visible(dialog);
  const after = await until(alice, "the saved cat", (before) => {
    const label = document.querySelector('dialog svg.avatar[role="img"]')?.getAttribute("aria-label");
    return label && label !== before && label;
  }, before);
  for (const value of chosen) {
    assert.ok(after.includes(value) || after.includes(value.replace(/_/g, " ")), `${value} in "${after}"`);
  }
  assert.equal(await dialog.locator("svg.avatar image, img").count(), 0, "drawn inline, no image downloads");
  await dialog.getByRole("button", { name: "Close", exact: true }).click();
  await dialog.waitFor({ state: "hidden" });

  // Someone else's profile, from their name on a message, is read-only.
  const bob = await page("bob");
  await login(bob, "bob", "bob123");
  await sendMessage(bob, "look at my cat");
  await seeMessage(alice, "look at my cat", "bob");
  // Someone else's message offers Reply and React, not Edit or Delete.
  const theirs = alice.locator('#messages li.message[data-author="bob"]').last();
  for (const name of ["Reply", "React"]) assert.equal(await theirs.getByRole("button", { name, exact: true }).count(), 1);
  for (const name of ["Edit", "Delete"]) assert.equal(await theirs.getByRole("button", { name, exact: true }).count(), 0);
  await alice.locator('#messages li.message[data-author="bob"] .author').click();
  await until(alice, "bob's profile", () => document.querySelector("dialog[open]")?.textContent.includes("bob"));
  await visible(dialog.locator('svg.avatar[role="img"]'));
  for (const field of [
    dialog.getByRole("textbox", { name: "Display name", exact: true }),
    ...["Breed", "Colour", "Expression"].map((name) => dialog.getByRole("combobox", { name, exact: true })),
  ]) {
    assert.ok(await field.isDisabled(), "read-only");
  }
  assert.equal(await dialog.getByRole("button", { name: "Save", exact: true }).count(), 0, "nothing to save");
  for (const name of ["Message", "Block"]) await visible(dialog.getByRole("button", { name, exact: true }));
  await dialog.getByRole("button", { name: "Close", exact: true }).click();
  await dialog.waitFor({ state: "hidden" });

  // The room title is the room's name.
  await joinRoom(alice, "lounge");
  assert.equal(await rooms.locator('li[data-room="general"]').getAttribute("aria-current"), null, "only one current room");
  assert.equal(await alice.locator("h2#room-title").textContent(), "lounge", "#room-title = the current room's name");
});

scenario("moderators and admins get their controls; announcements are dismissible banners", async ({ page }) => {
  const moderator = await page("moderator");
  const admin = await page("admin");
  await login(moderator, "moderator", "mod123");
  await login(admin, "admin", "admin123");
  assert.equal(await moderator.locator("#role").textContent(), "moderator");
  assert.equal(await admin.locator("#role").textContent(), "admin");

  for (const someone of [moderator, admin]) {
    const panel = await visible(someone.getByRole("region", { name: "Moderation" }));
    for (const name of ["User", "Reason"]) await visible(panel.getByRole("textbox", { name, exact: true }));
    await visible(panel.getByRole("combobox", { name: "Ban duration", exact: true }));
    for (const name of ["Kick", "Ban", "Unban"]) await visible(panel.getByRole("button", { name, exact: true }));
  }
  assert.equal(await moderator.getByLabel("Announcement", { exact: true }).count(), 0, "announcing is for admins");
  assert.equal(await moderator.getByRole("button", { name: "Delete room", exact: true }).count(), 0);
  const panel = admin.getByRole("region", { name: "Moderation" });
  await visible(panel.getByRole("button", { name: "Delete room", exact: true }));
  await panel.getByLabel("Announcement", { exact: true }).fill("maintenance at noon");
  await panel.getByRole("combobox", { name: "Level", exact: true }).selectOption("warning");
  await panel.getByRole("button", { name: "Announce", exact: true }).click();

  const banner = moderator.locator('div.announcement[role="status"][data-level="warning"]', { hasText: "maintenance at noon" });
  await visible(banner);
  await banner.getByRole("button", { name: "Dismiss", exact: true }).click();
  await banner.waitFor({ state: "detached" });

  // Kicking someone who is not there is answered in the notice line.
  await moderator.getByRole("region", { name: "Moderation" }).getByLabel("User", { exact: true }).fill("bob");
  await moderator.getByRole("region", { name: "Moderation" }).getByLabel("Reason", { exact: true }).fill("test");
  await moderator.getByRole("region", { name: "Moderation" }).getByRole("button", { name: "Kick", exact: true }).click();
  await notice(moderator, "bob");
  await until(moderator, "still connected", () => document.querySelector("#connection")?.textContent === "connected");
});
