// A TCP pass-through in front of the server that can hold new connections
// back. A page loaded through it reaches the server only when the test
// lets it, so "the page has not reconnected yet" is a fact, not a race.
// The Host and Origin the page sends both name the gate, so the server
// sees a same-origin page.
import { createConnection, createServer } from "node:net";

export class Gate {
  constructor(target) {
    this.target = target;
    this.held = false;
    this.waiting = [];
    this.open = new Set();
    this.server = createServer((socket) => this.#accept(socket));
  }

  get url() {
    return `http://127.0.0.1:${this.server.address().port}`;
  }

  listen() {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve(this));
    });
  }

  #accept(socket) {
    socket.on("error", () => socket.destroy());
    this.open.add(socket);
    socket.once("close", () => this.open.delete(socket));
    if (this.held) {
      socket.pause();
      this.waiting.push(socket);
    } else {
      this.#forward(socket);
    }
  }

  #forward(socket) {
    if (socket.destroyed) return;
    const upstream = createConnection({ host: "127.0.0.1", port: this.target.port });
    this.open.add(upstream);
    upstream.once("close", () => this.open.delete(upstream));
    upstream.on("error", () => socket.destroy());
    socket.on("close", () => upstream.destroy());
    upstream.on("close", () => socket.destroy());
    socket.pipe(upstream);
    upstream.pipe(socket);
    socket.resume();
  }

  /** New connections wait (connections already through are untouched). */
  hold() {
    this.held = true;
  }

  /** Lets waiting and new connections through. */
  release() {
    this.held = false;
    for (const socket of this.waiting.splice(0)) this.#forward(socket);
  }

  /** How many connections are waiting right now. */
  get waitingCount() {
    return this.waiting.filter((socket) => !socket.destroyed).length;
  }

  async close() {
    for (const socket of this.open) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
