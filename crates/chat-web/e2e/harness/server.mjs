// The real server binary on a free port with a fresh data directory.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, createWriteStream, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { repo, artifacts } from "./paths.mjs";

const binary = process.env.CHAT_SERVER_BIN ?? join(repo, "target/debug/bidirectional-chat-server");

export class Server {
  constructor(env = {}) {
    this.env = env;
    this.dataDir = mkdtempSync(join(tmpdir(), "chat-e2e-"));
    this.secret = randomBytes(32).toString("hex");
    this.port = 0;
    this.child = null;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the binary (on the port it had before, after a restart). */
  async start() {
    mkdirSync(artifacts, { recursive: true });
    const log = createWriteStream(join(artifacts, `server-${process.pid}-${Date.now()}.log`));
    const child = spawn(binary, [], {
      env: {
        PATH: process.env.PATH,
        HOST: "127.0.0.1",
        PORT: String(this.port),
        CHAT_DATA_DIR: this.dataDir,
        JWT_SECRET: this.secret,
        CHAT__RATE_LIMIT__ENABLED: "false",
        CHAT__LOGGING__FORMAT: "json",
        RUST_LOG: "info",
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.stderr.pipe(log);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    this.exited = exited;
    // The server logs where it listens once it is ready to accept.
    const address = await new Promise((resolve, reject) => {
      let buffered = "";
      child.stdout.on("data", (chunk) => {
        log.write(chunk);
        buffered += chunk;
        for (const line of buffered.split("\n").slice(0, -1)) {
          try {
            const entry = JSON.parse(line);
            const fields = entry.fields ?? {};
            if (fields.message === "listening" && fields.address) resolve(fields.address);
          } catch {
            // not a log line
          }
        }
        buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
      });
      exited.then((code) => reject(new Error(`the server exited (${code}) before listening`)));
    });
    this.port = Number(address.split(":").pop());
    return this;
  }

  /** SIGTERM and wait: the server closes sockets with 1001 and exits. */
  async stop() {
    if (!this.child) return;
    this.child.kill("SIGTERM");
    await this.exited;
    this.child = null;
  }

  async restart() {
    await this.stop();
    await this.start();
  }

  async dispose() {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export async function startServer(env) {
  return new Server(env).start();
}
