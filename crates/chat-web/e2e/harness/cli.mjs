// The terminal client's scriptable commands, as a second kind of client in
// the same room. Each instance has a home of its own, so saved tokens never
// touch the developer's and two instances never share one.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientBin } from "./paths.mjs";

export class Cli {
  constructor(server) {
    this.server = server;
    this.home = mkdtempSync(join(tmpdir(), "chat-e2e-cli-"));
  }

  /** Runs the client; resolves with stdout, rejects with stderr on failure. */
  run(args, stdin = "") {
    const env = {
      PATH: process.env.PATH,
      HOME: this.home,
      XDG_CONFIG_HOME: join(this.home, ".config"),
      XDG_DATA_HOME: join(this.home, ".local/share"),
      CHAT_CONFIG_DIR: join(this.home, ".config/bidirectional-chat"),
      NO_COLOR: "1",
    };
    return new Promise((resolve, reject) => {
      const child = execFile(
        clientBin,
        ["--server", this.server.url, ...args],
        { env, timeout: 30_000 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`client ${args.join(" ")}: ${stderr.trim() || error.message}`)) : resolve(stdout),
      );
      child.stdin.end(stdin);
    });
  }

  register(username, password) {
    return this.run(["register", "--username", username, "--password-stdin"], `${password}\n`);
  }

  login(username, password) {
    return this.run(["login", "--username", username, "--password-stdin"], `${password}\n`);
  }

  send(room, text) {
    return this.run(["send", "--room", room, "--", text]);
  }

  /** The room's recent messages as objects (the client's `--json` lines). */
  async history(room) {
    const out = await this.run(["history", "--room", room, "--limit", "100", "--json"]);
    return out
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line));
  }

  dispose() {
    rmSync(this.home, { recursive: true, force: true });
  }
}
