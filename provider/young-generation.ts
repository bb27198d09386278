/**
 * Keeps the V8 young generation of a provider process at its starting size
 * (2 MiB) instead of letting it grow to 128 MiB. Turned on by the provider
 * processes' entry points only, never in a user's program.
 *
 * A scan of 100,000 files builds a manifest that lives until the end of the
 * command, so nearly everything the young generation holds survives, and V8
 * answers a high survival rate by doubling the young generation again and
 * again: on Node 24 up to 128 MiB, most of what scan + plan of 100,000 files
 * peaked at (206 to 217 MiB; 145 to 150 MiB without the growth, issue 20).
 * The bytes of a file or a part never live there (they are Buffers, outside
 * the heap), and the scans and uploads measured took no more CPU without
 * the growth (bench/run.js, large files: 2.11 s against 2.10 s).
 *
 * V8 reads the growth factor each time it would grow the young generation,
 * so it can be set after start-up (the sizes themselves are read only at
 * start-up). A process started with young-generation flags of its own, in
 * NODE_OPTIONS or on its command line, keeps them.
 */
import { setFlagsFromString } from "node:v8";

const OWN_FLAGS = /--(max[-_]|min[-_])?semi[-_]space/;

if (!OWN_FLAGS.test(`${process.env.NODE_OPTIONS ?? ""} ${process.execArgv.join(" ")}`)) {
  setFlagsFromString("--semi-space-growth-factor=1");
}
