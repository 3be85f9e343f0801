// With the server's rate limits on (and tight), the page says how long to
// wait instead of failing silently, and keeps the unsent text.
import assert from "node:assert/strict";
import { scenario } from "../harness/scenario.mjs";
import { login, notice, sendMessage, visible } from "../harness/helpers.mjs";

const tight = {
  CHAT__RATE_LIMIT__ENABLED: "true",
  CHAT__RATE_LIMIT__MESSAGE_BURST: "2",
  CHAT__RATE_LIMIT__MESSAGES_PER_MINUTE: "6",
  CHAT__RATE_LIMIT__LOGIN_BURST: "2",
  CHAT__RATE_LIMIT__LOGIN_ATTEMPTS_PER_HOUR: "2",
};

scenario(
  "rate limits are shown with the time to wait",
  async ({ page }) => {
    const alice = await page("alice");
    await login(alice, "alice", "alice123");
    await sendMessage(alice, "one");
    await sendMessage(alice, "two");
    const box = alice.getByRole("form", { name: "Send message" }).getByLabel("Message", { exact: true });
    await box.fill("three");
    await box.press("Enter");
    await notice(alice, /^rate limited: try again in \d+ s$/);
    assert.equal(await box.inputValue(), "three", "the refused text is back in the box");

    // The second sign-in used the burst up; the third is refused.
    const bob = await page("bob");
    await login(bob, "bob", "bob123");
    const carol = await page("carol");
    await carol.goto("/");
    const form = await visible(carol.getByRole("form", { name: "Sign in" }));
    await form.getByLabel("Username", { exact: true }).fill("alice");
    await form.getByLabel("Password", { exact: true }).fill("alice123");
    await form.getByRole("button", { name: "Log in", exact: true }).click();
    await visible(carol.locator("#login-error", { hasText: /^rate limited: try again in \d+ s$/ }));
  },
  { env: tight },
);
