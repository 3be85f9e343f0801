// The harness's own alarms work: a CSP violation, an uncaught error or a
// dialog on the page would fail a test. Without this, a silent watcher
// would let every other test pass for the wrong reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../harness/server.mjs";
import { launchBrowser } from "../harness/browser.mjs";
import { eventually, login } from "../harness/helpers.mjs";

test("CSP violations, page errors and dialogs are caught", { timeout: 60_000 }, async () => {
  const server = await startServer("harness self-check");
  const browser = await launchBrowser("harness self-check");
  try {
    const page = await browser.newPage(server, { label: "alice" });
    await login(page, "alice", "alice123");
    browser.assertClean();

    // The page's CSP forbids inline scripts: adding one is a violation.
    await page.evaluate(() => {
      const script = document.createElement("script");
      script.textContent = "window.__inline = 1";
      document.body.append(script);
    });
    await eventually("the CSP violation to be reported", () => browser.problems.some((p) => p.includes("CSP violation")));
    assert.equal(await page.evaluate(() => window.__inline), undefined, "the inline script did not run");

    await page.evaluate(() => setTimeout(() => {
      throw new Error("boom");
    }));
    await eventually("the page error to be reported", () => browser.problems.some((p) => p.includes("boom")));

    await page.evaluate(() => setTimeout(() => alert("hello")));
    await eventually("the dialog to be reported", () => browser.problems.some((p) => p.includes("alert dialog")));

    assert.throws(() => browser.assertClean(), /CSP violation[\s\S]*boom[\s\S]*alert dialog/);
  } finally {
    await browser.close();
    await server.dispose();
  }
});

test("a restarted server keeps its port and its data", { timeout: 60_000 }, async () => {
  const server = await startServer("harness restart");
  try {
    const port = server.port;
    const register = await fetch(`${server.url}/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "dora", password: "dora-secret-1" }),
    });
    assert.ok(register.ok, `registered: ${register.status}`);
    await server.restart();
    assert.equal(server.port, port);
    const again = await fetch(`${server.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "dora", password: "dora-secret-1" }),
    });
    assert.ok(again.ok, `the account survived the restart: ${again.status}`);
  } finally {
    await server.dispose();
  }
});
