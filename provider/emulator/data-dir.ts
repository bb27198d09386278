/**
 * The emulator's claim on its data directory, and the crash test's hook
 * into the store's commit. Kept apart from the store: neither is about
 * objects.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";

/** The file that makes a directory the emulator's own. */
export const DATA_DIR_MARKER = ".zilliz-stage-emulator";

/** What an emulator before the marker wrote at the top of its data directory. */
const LEGACY_ENTRIES = new Set(["state.json", "objects", "uploads", "tmp", "import-jobs.json", "ca.pem"]);

/**
 * Makes sure `dataDir` is the emulator's: empty (or new), or marked by an
 * earlier start. A directory an older emulator wrote (its state file and
 * only its own entries) is marked now. Anything else is refused, naming it:
 * the store deletes its `tmp/` and rewrites `objects/`.
 */
export async function claimDataDir(dataDir: string): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true });
  const entries = await fs.readdir(dataDir);
  if (entries.includes(DATA_DIR_MARKER)) return;
  const legacy = entries.includes("state.json") && entries.every((e) => LEGACY_ENTRIES.has(e) || /^state\.json\.[0-9a-f]+\.tmp$/.test(e));
  if (entries.length > 0 && !legacy) {
    throw new Error(
      `the data directory ${path.resolve(dataDir)} is not empty and was not made by the emulator (no ${DATA_DIR_MARKER} file): ` +
        "give --data-dir an empty or new directory; the emulator would delete and rewrite what it holds",
    );
  }
  await fs.writeFile(path.join(dataDir, DATA_DIR_MARKER), "This directory holds the data of zilliz-stage-emulator.\n");
}

/**
 * The crash test's hook: with ZILLIZ_EMULATOR_CRASH_PAUSE_FILE set and that
 * file present, a commit stops after its content is written and before its
 * metadata is, says so on stderr, and waits to be killed.
 */
export async function pauseForCrashTest(key: string): Promise<void> {
  const file = process.env.ZILLIZ_EMULATOR_CRASH_PAUSE_FILE;
  if (!file) return;
  try {
    await fs.access(file);
  } catch {
    return;
  }
  process.stderr.write(`commit paused: ${key}\n`);
  await new Promise<never>(() => undefined);
}

/** Replaces `file` whole or not at all: written beside it, then renamed over it (the store's commit point). */
export async function writeAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}
