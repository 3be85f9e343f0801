// Where the binaries under test are, and where failures leave their traces.
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";

/** The repository root. */
export const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** Screenshots, server logs and browser consoles. */
export const artifacts = process.env.ARTIFACTS ?? join(repo, "target/browser-artifacts");

export const serverBin = process.env.CHAT_SERVER_BIN ?? join(repo, "target/debug/bidirectional-chat-server");

export const clientBin = process.env.CHAT_CLIENT_BIN ?? join(repo, "target/debug/bidirectional-chat-client");

/** A file name from a test's name: letters, digits and dashes. */
export function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60);
}
