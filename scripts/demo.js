#!/usr/bin/env node
// `npm run demo`: the volumes quickstart against the built-in emulator,
// under the real Pulumi CLI. Starts the emulator, runs `pulumi up --yes` on
// a copy of examples/volumes, prints the stack outputs, what is now in the
// volume, the rows the import job brought into the emulator's collection
// and a few rows of the collection the merge made, then stops the emulator
// and removes the temp directories.
//
//   npm run demo              the TypeScript program (dynamic resources)
//   npm run demo -- --yaml    the same from YAML (examples/volumes-yaml) on the
//                             zillizcloud package; builds the YAML language
//                             host from its Go module on the first run
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { createWorkspace, createYamlWorkspace, REPO_ROOT } = require("./workspace");
const { startEmulator, DEFAULT_COLLECTION } = require("../dist/provider/emulator");
const { ImportJobClient, RestClient } = require("../dist/provider/client");

/** Each import job the emulator ran into its default collection, with its rows. */
async function printImports(emu) {
  const rest = new RestClient({ endpoint: emu.url, apiKey: emu.apiKey });
  try {
    const jobs = new ImportJobClient(rest);
    const [clusterId, collectionName] = DEFAULT_COLLECTION.split("/");
    const { records } = await jobs.list({ clusterId }, { collectionName, pageSize: 100 });
    console.log(`\nimport jobs into ${collectionName} (cluster ${clusterId}):${records.length ? "" : " none"}`);
    for (const r of records) {
      const p = await jobs.progress({ clusterId }, r.jobId);
      console.log(`  ${p.jobId}  ${p.state}  ${p.importedRows} of ${p.totalRows} rows  (${p.details.map((d) => d.fileName).join(", ")})`);
    }
  } finally {
    await rest.close();
  }
}

/** A few rows of the collection the merge made, through the emulator's inspection route. */
async function printMerged(emu, destCollectionName) {
  const [clusterId] = DEFAULT_COLLECTION.split("/");
  const res = await fetch(`${emu.url}/__emulator/collections/${clusterId}/default/${destCollectionName}?limit=6`, {
    headers: { Authorization: `Bearer ${emu.apiKey}` },
  });
  if (res.status !== 200) return console.log(`\nno merged collection ${destCollectionName} (HTTP ${res.status})`);
  const { data } = await res.json();
  console.log(`\nmerged collection ${destCollectionName}: ${data.rowCount} rows, fields ${data.fields.map((f) => `${f.name} ${f.dataType}`).join(", ")}`);
  for (const row of data.rows) console.log(`  ${JSON.stringify({ ...row, vector: undefined })}`);
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "zstages-demo-emulator-"));
  const emu = await startEmulator({ dataDir });
  console.log(`emulator listening on ${emu.url} (data in ${dataDir})`);
  const yaml = process.argv.includes("--yaml");
  const examples = path.join(REPO_ROOT, "examples");
  const ws = yaml ? createYamlWorkspace(path.join(examples, "volumes-yaml")) : createWorkspace(path.join(examples, "volumes"));
  try {
    await ws.init();
    await ws.useEmulator(emu);
    if (yaml) {
      // The quickstart's files, where the TypeScript program finds them next to itself.
      await ws.must(["config", "set", "dataSource", path.join(examples, "volumes", "data")]);
      await ws.must(["config", "set", "enrichSource", path.join(examples, "volumes", "enrich")]);
    }

    console.log("\n$ pulumi up --yes");
    const up = await ws.must(["up", "--yes"]);
    process.stdout.write(up.stdout);

    console.log("\n$ pulumi stack output --json");
    process.stdout.write((await ws.must(["stack", "output", "--json"])).stdout);

    console.log("\nobjects now in the volume:");
    for (const o of emu.listObjects()) console.log(`  ${o.key}  ${o.size} bytes  etag ${o.etag}`);
    await printImports(emu);
    const outputs = JSON.parse((await ws.must(["stack", "output", "--json"])).stdout);
    await printMerged(emu, outputs.mergedCollection);
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
