// One test = one fresh server, one browser, any number of terminal
// clients; all torn down afterwards. A failure leaves screenshots, the
// pages' consoles and the server log in the artifacts directory.
import { test } from "node:test";
import { rmSync } from "node:fs";
import { startServer } from "./server.mjs";
import { launchBrowser } from "./browser.mjs";
import { Cli } from "./cli.mjs";

/**
 * Declares a test. `body` gets `{ server, browser, page(label, options),
 * cli() }`; any CSP violation, uncaught page error or dialog fails it.
 */
export function scenario(name, body, { env, timeout = 90_000 } = {}) {
  test(name, { timeout }, async () => {
    const server = await startServer(name, env);
    let browser;
    const clis = [];
    let failed = true;
    try {
      browser = await launchBrowser(name);
      await body({
        server,
        browser,
        page: (label, options = {}) => browser.newPage(server, { label, ...options }),
        cli: () => {
          const cli = new Cli(server);
          clis.push(cli);
          return cli;
        },
      });
      browser.assertClean();
      failed = false;
    } catch (error) {
      await browser?.saveArtifacts();
      error.message += `\n  (server log: ${server.logPath})`;
      throw error;
    } finally {
      await browser?.close();
      await server.dispose();
      for (const cli of clis) cli.dispose();
      if (!failed) rmSync(server.logPath, { force: true });
    }
  });
}
