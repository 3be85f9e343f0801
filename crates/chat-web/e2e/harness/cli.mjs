// The terminal client's scriptable commands, as a second kind of client
// in the same room. Each instance keeps its tokens in its own directory.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repo } from "./paths.mjs";

const binary = process.env.CHAT_CLIENT_BIN ?? join(repo, "target/debug/bidirectional-chat-client");

export class Cli {
  constructor(server) {
    this.server = server;
    this.configDir = mkdtempSync(join(tmpdir(), "chat-cli-"));
  }

  /** Runs the client; resolves with stdout, rejects with stderr on failure. */
  run(args, stdin = "") {
    return new Promise((resolve, reject) => {
      const child = execFile(
        binary,
        ["--server", this.server.url, ...args],
        { env: { PATH: process.env.PATH, CHAT_CONFIG_DIR: this.configDir, NO_COLOR: "1" }, timeout: 30_000 },
        (error, stdout, stderr) => (error ? reject(new Error(`${args.join(" ")}: ${stderr || error.message}`)) : resolve(stdout)),
      );
      child.stdin.end(stdin);
    });
  }

  login(username, password) {
    return this.run(["login", "--username", username, "--password-stdin"], `${password}\n`);
  }

  send(room, text) {
    return this.run(["send", "--room", room, text]);
  }

  history(room) {
    return this.run(["history", "--room", room, "--limit", "50"]);
  }
}
