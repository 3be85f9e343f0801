import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";

/** The repository root. */
export const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
/** Where screenshots and server logs go. */
export const artifacts = process.env.ARTIFACTS ?? join(repo, "target/browser-artifacts");
