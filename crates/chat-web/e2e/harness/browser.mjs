// Debian's Chromium driven by playwright-core: never a downloaded browser.
// Each user gets a context of their own (own storage, own token); whatever
// the pages do wrong is collected so a test can fail on it.
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { artifacts, slug } from "./paths.mjs";

const flags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-quic",
  "--disable-sync",
];

/** Reports CSP violations to the test (runs before the page's own code). */
function watchCsp() {
  document.addEventListener("securitypolicyviolation", (event) => {
    // A binding the harness adds; absent means the page was not ours.
    globalThis.__e2eCspViolation?.(`${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`);
  });
}

export class Browser {
  constructor(name, browser) {
    this.name = name;
    this.browser = browser;
    this.pages = [];
    /** CSP violations, uncaught page errors and dialogs: each fails a test. */
    this.problems = [];
    /** Every console line of every page, kept for a failure's artifacts. */
    this.console = [];
    /** Confirm dialogs a test expects, per page; any other dialog is a problem. */
    this.confirms = new Map();
    /** The questions of the confirms that were accepted. */
    this.answered = [];
  }

  /**
   * A page in a fresh context (its own cookies and localStorage: one user
   * each) whose relative URLs resolve against `server`.
   */
  async newPage(server, { label = `page${this.pages.length + 1}`, ...options } = {}) {
    const context = await this.browser.newContext({
      baseURL: server.url,
      viewport: { width: 1280, height: 800 },
      ...options,
    });
    await context.exposeFunction("__e2eCspViolation", (text) => this.problems.push(`${label}: CSP violation: ${text}`));
    await context.addInitScript(watchCsp);
    const page = await context.newPage();
    page.label = label;
    page.on("pageerror", (error) => this.problems.push(`${label}: uncaught page error: ${error.message}`));
    page.on("console", (message) => {
      const text = message.text();
      this.console.push(`${label} [${message.type()}] ${text}`);
      if (message.type() === "error" && /Content Security Policy/i.test(text)) {
        this.problems.push(`${label}: CSP violation: ${text}`);
      }
    });
    page.on("response", (response) => {
      if (response.status() >= 400) this.console.push(`${label} [http] ${response.status()} ${response.url()}`);
    });
    page.on("dialog", (dialog) => {
      if (dialog.type() === "confirm" && this.confirms.get(page)) {
        this.confirms.set(page, this.confirms.get(page) - 1);
        this.answered.push(dialog.message());
        return dialog.accept().catch(() => {});
      }
      this.problems.push(`${label}: a ${dialog.type()} dialog opened: ${dialog.message()}`);
      return dialog.dismiss().catch(() => {});
    });
    this.pages.push(page);
    return page;
  }

  /** Accepts the next confirm() on `page` instead of failing the test. */
  expectConfirm(page) {
    this.confirms.set(page, (this.confirms.get(page) ?? 0) + 1);
  }

  /** Fails the test if any page misbehaved. */
  assertClean() {
    if (this.problems.length) throw new Error(`the page misbehaved:\n  ${this.problems.join("\n  ")}`);
  }

  /** Screenshots of every open page and the console, for a failed test. */
  async saveArtifacts() {
    mkdirSync(artifacts, { recursive: true });
    const base = join(artifacts, `${slug(this.name)}-${process.pid}`);
    writeFileSync(`${base}.console.log`, [...this.problems, "", ...this.console].join("\n"));
    for (const page of this.pages) {
      if (page.isClosed()) continue;
      await page.screenshot({ path: `${base}-${page.label}.png`, fullPage: true, timeout: 5_000 }).catch(() => {});
    }
  }

  async close() {
    await this.browser.close();
  }
}

/** Launches Chromium with a fresh temporary profile. */
export async function launchBrowser(name = "browser") {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: flags,
    timeout: 30_000,
  });
  return new Browser(name, browser);
}
