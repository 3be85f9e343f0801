// Time to first message on page load: from navigation start to the first
// message of #general on screen, for a user who is already signed in (the
// token in localStorage), with a cold cache (a new browser context each
// time) and a warm one (a reload). Prints the median of each.
//
//   node bench/first-message.mjs [runs]
//
// CHAT_SERVER_BIN picks the server binary (a release build is fairest).
import { startServer } from "../harness/server.mjs";
import { launchBrowser } from "../harness/browser.mjs";
import { Cli } from "../harness/cli.mjs";

const runs = Number(process.argv[2] ?? 9);
const server = await startServer("first-message");
const browser = await launchBrowser("first-message");
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

try {
  const bob = new Cli(server);
  await bob.login("bob", "bob123");
  await bob.send("general", "the first message");
  const login = await fetch(`${server.url}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "alice", password: "alice123" }),
  }).then((r) => r.json());
  const account = JSON.stringify({ token: login.token, username: "alice", role: "user" });

  // Records when the first message appears, relative to navigation start.
  const probe = (stored) => {
    localStorage.setItem("bidirectional-chat.account", stored);
    new MutationObserver((_, observer) => {
      if (document.querySelector("#messages li.message")) {
        window.__firstMessageAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  };

  const cold = [];
  const warm = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.browser.newContext();
    await context.addInitScript(probe, account);
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => window.__firstMessageAt !== undefined, null, { timeout: 30_000 });
    cold.push(await page.evaluate(() => window.__firstMessageAt));
    await page.reload();
    await page.waitForFunction(() => window.__firstMessageAt !== undefined, null, { timeout: 30_000 });
    warm.push(await page.evaluate(() => window.__firstMessageAt));
    await context.close();
  }
  const show = (values) => values.map((v) => v.toFixed(0)).join(" ");
  console.log(`cold cache: median ${median(cold).toFixed(0)} ms (runs: ${show(cold)})`);
  console.log(`warm cache: median ${median(warm).toFixed(0)} ms (runs: ${show(warm)})`);
} finally {
  await browser.close();
  await server.dispose();
}
