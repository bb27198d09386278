#!/usr/bin/env node
// `npm run demo`: the volumes quickstart against the built-in emulator,
// under the real Pulumi CLI. Starts the emulator, runs `pulumi up --yes` on
// a copy of examples/volumes, prints the stack outputs and what is now in
// the volume, then stops the emulator and removes the temp directories.
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { createWorkspace, REPO_ROOT } = require("./workspace");
const { startEmulator } = require("../dist/provider/emulator");

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "zstages-demo-emulator-"));
  const emu = await startEmulator({ dataDir });
  console.log(`emulator listening on ${emu.url} (data in ${dataDir})`);
  const ws = createWorkspace(path.join(REPO_ROOT, "examples", "volumes"));
  try {
    await ws.init();
    await ws.must(["config", "set", "zillizcloud:endpoint", emu.url]);
    // Read from stdin, so the key is never on a command line.
    await ws.must(["config", "set", "--secret", "zillizcloud:apiKey"], { input: emu.apiKey });

    console.log("\n$ pulumi up --yes");
    const up = await ws.must(["up", "--yes"]);
    process.stdout.write(up.stdout);

    console.log("\n$ pulumi stack output --json");
    process.stdout.write((await ws.must(["stack", "output", "--json"])).stdout);

    console.log("\nobjects now in the volume:");
    for (const o of emu.listObjects()) console.log(`  ${o.key}  ${o.size} bytes  etag ${o.etag}`);
  } finally {
    ws.cleanup();
    await emu.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    console.log("\nemulator stopped; temp directories removed.");
  }
}

main().catch((err) => {
  console.error(err.message || err);
  process.exit(1);
});
