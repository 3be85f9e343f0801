// Debian's Chromium driven by playwright-core: never a downloaded browser.
import { chromium } from "playwright-core";

const flags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-quic",
  "--disable-sync",
  "--no-first-run",
];

/**
 * A browser with a fresh profile. `page()` opens a page in a new context
 * (its own storage: one user each) that records page errors and CSP
 * violations; `assertClean()` fails the test if any happened.
 */
export async function launch() {
  // Playwright gives each launch a fresh, empty profile of its own.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: flags,
  });
  const problems = [];
  return {
    browser,
    problems,
    async page(options = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
      const page = await context.newPage();
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      page.on("console", (message) => {
        const text = message.text();
        if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
      });
      page.on("dialog", (dialog) => {
        if (dialog.type() === "confirm") return dialog.accept();
        problems.push(`unexpected ${dialog.type()} dialog: ${dialog.message()}`);
        return dialog.dismiss();
      });
      return page;
    },
    assertClean() {
      if (problems.length) throw new Error(`the page misbehaved:\n${problems.join("\n")}`);
    },
    async close() {
      await browser.close();
    },
  };
}
