// The real server binary, alone on a free port with a fresh data
// directory, so tests can run side by side and restart it at will.
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { artifacts, serverBin, slug } from "./paths.mjs";

/** How long a start may take before the test gives up on it. */
const START_PATIENCE_MS = 20_000;
/** How long a SIGTERM may take before the process is killed. */
const STOP_PATIENCE_MS = 10_000;
/** Fresh ports tried when another process takes the one picked. */
const PORT_ATTEMPTS = 5;

/** A port nothing listens on right now (the kernel's pick for port 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export class Server {
  /**
   * @param {string} name names the log file in the artifacts directory
   * @param {Record<string, string>} env extra variables, e.g. to turn rate
   *   limits back on
   */
  constructor(name = "server", env = {}) {
    this.env = env;
    this.dataDir = mkdtempSync(join(tmpdir(), "chat-e2e-data-"));
    // The working directory is empty so a developer's .env or config.toml
    // cannot leak into the test.
    this.workDir = mkdtempSync(join(tmpdir(), "chat-e2e-cwd-"));
    this.secret = randomBytes(32).toString("hex");
    this.port = null;
    this.child = null;
    mkdirSync(artifacts, { recursive: true });
    this.logPath = join(artifacts, `${slug(name)}-${process.pid}-${Date.now()}.server.log`);
    this.log = createWriteStream(this.logPath);
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts on a free port, or on the same port again after `stop()`. */
  async start() {
    if (this.port !== null) return this.#startOn(this.port);
    let lastError;
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      const port = await freePort();
      try {
        await this.#startOn(port);
        this.port = port;
        return this;
      } catch (error) {
        // Another process took the port between the probe and the bind.
        lastError = error;
      }
    }
    throw lastError;
  }

  async #startOn(port) {
    this.log.write(`--- starting on port ${port} at ${new Date().toISOString()}\n`);
    const child = spawn(serverBin, [], {
      cwd: this.workDir,
      env: {
        PATH: process.env.PATH,
        HOST: "127.0.0.1",
        PORT: String(port),
        CHAT_DATA_DIR: this.dataDir,
        JWT_SECRET: this.secret,
        CHAT__RATE_LIMIT__ENABLED: "false",
        RUST_LOG: process.env.RUST_LOG ?? "info",
        NO_COLOR: "1",
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pipe(this.log, { end: false });
    child.stderr.pipe(this.log, { end: false });
    let exitCode;
    const exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        exitCode = code ?? signal;
        resolve(exitCode);
      }),
    );
    child.once("error", (error) => this.log.write(`spawn failed: ${error.message}\n`));
    this.child = child;
    this.exited = exited;
    const deadline = Date.now() + START_PATIENCE_MS;
    while (Date.now() < deadline) {
      if (exitCode !== undefined) {
        this.child = null;
        throw new Error(`the server exited (${exitCode}) while starting on port ${port}; see ${this.logPath}`);
      }
      if (await this.#healthy(port)) return this;
      await sleep(50);
    }
    await this.stop();
    throw new Error(`the server did not answer /health within ${START_PATIENCE_MS} ms; see ${this.logPath}`);
  }

  /** Whether this server (the child we started) answers /health. */
  async #healthy(port) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) });
      return response.ok;
    } catch {
      return false;
    }
  }

  /** SIGTERM, then wait for the exit (the server closes sockets first). */
  async stop() {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_PATIENCE_MS);
      await this.exited;
      clearTimeout(timer);
    }
    this.log.write(`--- stopped at ${new Date().toISOString()}\n`);
  }

  /** Stops and starts again on the same port with the same data. */
  async restart() {
    await this.stop();
    await this.start();
  }

  /** Stops and removes the data; the log stays in the artifacts. */
  async dispose() {
    await this.stop();
    await new Promise((resolve) => this.log.end(resolve));
    rmSync(this.dataDir, { recursive: true, force: true });
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** A started server; see `Server`. */
export async function startServer(name, env) {
  return new Server(name, env).start();
}
