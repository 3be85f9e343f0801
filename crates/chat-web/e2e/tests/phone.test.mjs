// A phone-sized screen, driven by the keyboard alone.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import { login, messages, seeMessage, until } from "../harness/helpers.mjs";

const WIDTH = 375;

/** Scrolls `locator` into view and checks that it is visible and fits the width. */
async function reachable(locator, what) {
  await locator.scrollIntoViewIfNeeded();
  assert.ok(await locator.isVisible(), `${what} is visible`);
  const box = await locator.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= WIDTH + 0.5, `${what} fits in ${WIDTH} px: ${JSON.stringify(box)}`);
}

/** What has the keyboard focus, in words a failure message can show. */
function focused(page) {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return { kind: "body" };
    if (element.closest('nav[aria-label="Rooms"] li[data-room]')) return { kind: "room", text: element.textContent };
    if (element.id === "messages" || element.closest("#messages")) return { kind: "messages" };
    if (element.closest('form[aria-label="Send message"]') && element.tagName === "TEXTAREA") return { kind: "composer" };
    return { kind: element.tagName.toLowerCase(), text: element.textContent || element.getAttribute("aria-label") };
  });
}

scenario("on a 375 px screen everything is reachable, and Tab and Enter send a message", async ({ page }) => {
  const alice = await page("alice", { viewport: { width: WIDTH, height: 740 }, isMobile: true, hasTouch: true });
  await login(alice, "alice", "alice123");

  await reachable(alice.getByRole("navigation", { name: "Rooms" }).locator("li[data-room] button").first(), "a room");
  await reachable(alice.getByRole("log", { name: "Messages" }), "the messages");
  await reachable(alice.getByRole("form", { name: "Send message" }).getByLabel("Message", { exact: true }), "the message box");
  await reachable(alice.getByRole("form", { name: "Send message" }).getByRole("button", { name: "Send" }), "Send");
  // The columns stack: rooms above the messages, who is here below.
  const top = (locator) => locator.evaluate((element) => element.getBoundingClientRect().top + window.scrollY);
  const [rooms, log, aside] = [
    await top(alice.getByRole("navigation", { name: "Rooms" })),
    await top(alice.getByRole("log", { name: "Messages" })),
    await top(alice.getByRole("complementary", { name: "Who is here" })),
  ];
  assert.ok(rooms < log && log < aside, `stacked rooms (${rooms}), messages (${log}), who is here (${aside})`);
  const overflow = await alice.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (${overflow} px too wide)`);

  // From the top of the page, Tab alone: rooms come before the messages,
  // the messages before the message box.
  await alice.evaluate(() => {
    document.activeElement?.blur();
    window.scrollTo(0, 0);
  });
  const path = [];
  for (let i = 0; i < 60; i++) {
    await alice.keyboard.press("Tab");
    const now = await focused(alice);
    path.push(now);
    if (now.kind === "composer") break;
  }
  const order = path.map((step) => step.kind);
  const at = (kind) => order.indexOf(kind);
  assert.ok(at("composer") >= 0, `Tab reaches the message box: ${JSON.stringify(path)}`);
  assert.ok(at("room") >= 0 && at("room") < at("messages") && at("messages") < at("composer"),
    `Tab order is rooms, messages, composer: ${order.join(" → ")}`);

  await alice.keyboard.type("typed without a mouse");
  await alice.keyboard.press("Enter");
  await seeMessage(alice, "typed without a mouse", "alice");
  // Shift+Enter is a new line, not a send.
  await alice.keyboard.type("line one");
  await alice.keyboard.press("Shift+Enter");
  await alice.keyboard.type("line two");
  await alice.keyboard.press("Enter");
  await seeMessage(alice, "line one\nline two", "alice");
  assert.deepEqual(
    (await messages(alice)).map((m) => [m.text, m.own]),
    [
      ["typed without a mouse", true],
      ["line one\nline two", true],
    ],
  );
  await reachable(alice.locator("#messages li.message.own").last(), "the sent message");

  // A search's results, below the conversation on a phone, come into view.
  const search = alice.getByRole("search", { name: "Search" });
  await search.getByLabel("Search messages", { exact: true }).fill("typed");
  await search.getByRole("button", { name: "Search", exact: true }).click();
  await until(alice, "a search result in view", () => {
    const box = document.querySelector("#search-list li.result")?.getBoundingClientRect();
    return box && box.top >= 0 && box.bottom <= window.innerHeight;
  });
  await reachable(alice.locator("#search-list li.result").first(), "the search result");
});
