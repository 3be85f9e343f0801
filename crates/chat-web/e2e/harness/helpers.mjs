// What a person does on the page, found the way docs/web-client.md's DOM
// contract promises (roles, labels, ids, data-* attributes), and waits that
// poll the page until a condition holds: never a fixed sleep.

/** How long any single expectation may take to come true. */
export const PATIENCE = 15_000;

/**
 * Waits until `predicate(arg)`, run in the page, returns something truthy,
 * and returns it. `what` says in the failure what never happened.
 */
export async function until(page, what, predicate, arg) {
  try {
    const handle = await page.waitForFunction(predicate, arg, { timeout: PATIENCE, polling: 50 });
    return await handle.jsonValue();
  } catch (error) {
    throw new Error(`${page.label ?? "page"}: waited ${PATIENCE} ms for ${what}: ${error.message.split("\n")[0]}`);
  }
}

/** Waits until `locator` is attached and visible. */
export async function visible(locator) {
  await locator.waitFor({ state: "visible", timeout: PATIENCE });
  return locator;
}

/** Opens the app, signs in, and waits for the main screen in #general. */
export async function login(page, username, password) {
  await page.goto("/");
  const form = await visible(page.getByRole("form", { name: "Sign in" }));
  await form.getByLabel("Username", { exact: true }).fill(username);
  await form.getByLabel("Password", { exact: true }).fill(password);
  await form.getByRole("button", { name: "Log in", exact: true }).click();
  await mainScreen(page, username);
}

/** Registers a new account from the sign-in form (which then logs in). */
export async function register(page, username, password) {
  await page.goto("/");
  const form = await visible(page.getByRole("form", { name: "Sign in" }));
  await form.getByLabel("Username", { exact: true }).fill(username);
  await form.getByLabel("Password", { exact: true }).fill(password);
  await form.getByRole("button", { name: "Register", exact: true }).click();
  await mainScreen(page, username);
}

/** Waits for the signed-in screen: own name, connected, a current room. */
export async function mainScreen(page, username) {
  await until(
    page,
    `the main screen as ${username}`,
    (name) =>
      document.querySelector("#me")?.textContent === name &&
      document.querySelector("#connection")?.textContent === "connected" &&
      document.querySelector('nav li[data-room][aria-current="true"]') !== null,
    username,
  );
}

/** The id of a room: its name in lower case. */
export function roomId(name) {
  return name.toLowerCase();
}

/** Switches to room `name`: a click in the room list, or "Create" when it is not listed. */
export async function joinRoom(page, name) {
  const id = roomId(name);
  const listed = page.locator(`nav li[data-room="${id}"] button`);
  if (await listed.count()) {
    await listed.click();
  } else {
    const form = page.getByRole("form", { name: "Create room" });
    await form.getByLabel("New room name", { exact: true }).fill(name);
    await form.getByRole("button", { name: "Create", exact: true }).click();
  }
  await until(
    page,
    `room ${name} to be current and joined`,
    (id) => {
      const item = document.querySelector(`nav li[data-room="${id}"]`);
      return item?.getAttribute("aria-current") === "true" && item.classList.contains("joined");
    },
    id,
  );
}

/** Types `text` into the message box, presses Enter, and waits for it to come back marked as own. */
export async function sendMessage(page, text) {
  const before = await ownCount(page, text);
  const box = page.getByRole("form", { name: "Send message" }).getByLabel("Message", { exact: true });
  await box.fill(text);
  await box.press("Enter");
  await until(
    page,
    `own message ${JSON.stringify(text)} on screen`,
    ([text, before]) =>
      [...document.querySelectorAll("#messages li.message.own .text")].filter((t) => t.textContent === text).length >
      before,
    [text, before],
  );
}

function ownCount(page, text) {
  return page.evaluate(
    (text) =>
      [...document.querySelectorAll("#messages li.message.own .text")].filter((t) => t.textContent === text).length,
    text,
  );
}

/** Waits until a message with exactly this text (and author, if given) is on screen. */
export async function seeMessage(page, text, author) {
  await until(
    page,
    `message ${JSON.stringify(text)}${author ? ` by ${author}` : ""}`,
    ([text, author]) =>
      [...document.querySelectorAll("#messages li.message")].some(
        (li) => li.querySelector(".text")?.textContent === text && (!author || li.dataset.author === author),
      ),
    [text, author ?? null],
  );
}

/** Every message on screen, in order: {id, author, text, own, time, shown}. */
export function messages(page) {
  return page.$$eval("#messages li.message", (items) =>
    items.map((li) => ({
      id: li.dataset.messageId,
      author: li.dataset.author,
      text: li.querySelector(".text")?.textContent ?? null,
      own: li.classList.contains("own"),
      time: li.querySelector("time")?.getAttribute("datetime") ?? null,
      shown: li.querySelector("time")?.textContent ?? null,
    })),
  );
}

/** Waits until #connection reads `state` ("connected", "reconnecting…", "offline"). */
export async function connection(page, state) {
  await until(page, `connection "${state}"`, (state) => document.querySelector("#connection")?.textContent === state, state);
}

/** Waits until #notice contains `text` (a string or a RegExp source), and returns the notice. */
export async function notice(page, pattern) {
  const source = pattern instanceof RegExp ? pattern.source : pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return until(
    page,
    `notice matching /${source}/`,
    (source) => {
      const text = document.querySelector("#notice")?.textContent ?? "";
      return new RegExp(source).test(text) && text;
    },
    source,
  );
}

/** The usernames in the presence list, sorted. */
export function presence(page) {
  return page.$$eval("#presence li[data-user]", (items) => items.map((li) => li.dataset.user).sort());
}

/** Polls `check()` here in the test until it is truthy, and returns it. */
export async function eventually(what, check) {
  const deadline = Date.now() + PATIENCE;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waited ${PATIENCE} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The list item of the message with exactly this text (the newest, if several). */
export function messageItem(page, text) {
  return page.locator("#messages li.message").filter({ has: page.locator(".text", { hasText: text }) }).last();
}

/**
 * Waits until the unread badge of room or conversation `id` (`general`,
 * `dm:alice:bob`) reads `unread`, with `mentions` of them mentioning the
 * user when given; 0 means the badge is hidden.
 */
export function unreadBadge(page, id, unread, mentions) {
  return until(
    page,
    `the unread badge of ${id} at ${unread}${mentions === undefined ? "" : ` (${mentions} mentions)`}`,
    ([id, unread, mentions]) => {
      const badge = document.querySelector(`nav li[data-room="${id}"] .unread[data-unread]`);
      if (!badge) return false;
      const shown = unread === 0 ? badge.hidden : !badge.hidden && badge.dataset.unread === String(unread);
      return shown && (mentions === null || badge.dataset.mentions === String(mentions));
    },
    [id, unread, mentions ?? null],
  );
}

/** The id of the direct conversation between two users. */
export function directId(one, other) {
  return `dm:${[one.toLowerCase(), other.toLowerCase()].sort().join(":")}`;
}

/** Opens the direct conversation with `user` from the "Message a user" form. */
export async function openDirect(page, user) {
  const form = page.getByRole("form", { name: "Message a user" });
  await form.getByLabel("Username to message", { exact: true }).fill(user);
  await form.getByRole("button", { name: "Message", exact: true }).click();
  const me = await page.locator("#me").textContent();
  await until(
    page,
    `the conversation with ${user} on screen`,
    ([id, user]) =>
      document.querySelector(`#directs li[data-room="${id}"]`)?.getAttribute("aria-current") === "true" &&
      document.querySelector("#room-title")?.textContent === user,
    [directId(me, user), user],
  );
}
