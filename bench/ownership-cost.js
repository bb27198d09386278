// What ownership costs the two operations it adds work to: a destroy (list
// the path, HEAD only objects whose stamp moved) and an update that removes
// files (a HEAD per removal when few). Drives the files provider exactly as
// the engine does (check, diff, create/update, delete) against an emulator in
// this process, and prints the time and the S3 requests of each.
//
//   npm run build && node bench/ownership-cost.js --files 10000,100000 --runs 2
//   node bench/ownership-cost.js --dist /tmp/main-build/dist   # another build's provider, same emulator
//
// Not part of `npm test`: timings depend on the machine and its load.
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { storeDir } = require("./lib/stage");
const { startEmulator } = require("../dist/provider/emulator");
const { StageClient } = require("../dist/provider/client");

const { values } = parseArgs({
  options: {
    dist: { type: "string", default: path.join(__dirname, "..", "dist") },
    files: { type: "string", default: "10000,100000" },
    runs: { type: "string", default: "2" },
  },
});
const dist = path.resolve(values.dist);
const { createProvider } = require(path.join(dist, "provider/resources/runtime"));
const { ProviderContext } = require(path.join(dist, "provider/resources/provider-context"));

function counts(emu) {
  const out = {};
  for (const r of emu.requests()) if (r.kind.startsWith("s3:")) out[r.kind] = (out[r.kind] ?? 0) + 1;
  return out;
}

async function timed(emu, fn) {
  emu.clearRequests();
  const start = process.hrtime.bigint();
  const result = await fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, requests: counts(emu), result };
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "zstages-own-cost-"));
  const emu = await startEmulator({ dataDir: storeDir(work), credentialTtlSeconds: 24 * 3600, maxContentLength: 2 ** 40, maxFileNumber: 1_000_000 });
  const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
  await client.createStage({ projectId: "bench", regionId: "local", stageName: "bench" });
  await client.close();
  const context = new ProviderContext({}, undefined, { log: () => undefined });
  const provider = createProvider("stagedFiles", context);
  await provider.configure({ config: { get: (k) => ({ "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url })[k] } });
  const rows = [];
  try {
    for (const n of values.files.split(",").map(Number)) {
      const src = path.join(work, `src-${n}`);
      for (let d = 0; d < Math.ceil(n / 1000); d++) fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
      for (let i = 0; i < n; i++) fs.writeFileSync(path.join(src, `d${Math.floor(i / 1000)}`, `f${i}.json`), `{"i":${i}}`);
      for (let run = 0; run < Number(values.runs); run++) {
        const args = { stageName: "bench", source: src, path: `n${n}`, ownerUrn: `urn:pulumi:bench::own::pulumi-nodejs:dynamic/zillizcloud:StagedFiles::f${n}` };
        const checked = await provider.check({}, args);
        const created = await provider.create(checked.inputs);
        // An update that removes 10 files.
        const removed = Array.from({ length: 10 }, (_, k) => path.join(src, "d0", `f${k}.json`));
        const kept = removed.map((f) => fs.readFileSync(f));
        for (const f of removed) fs.rmSync(f);
        const upd = await timed(emu, async () => {
          const c = await provider.check(checked.inputs, args);
          await provider.diff(created.id, created.outs, c.inputs);
          return provider.update(created.id, created.outs, c.inputs);
        });
        removed.forEach((f, k) => fs.writeFileSync(f, kept[k]));
        const outs = upd.result.outs;
        const destroy = await timed(emu, () => provider.delete(created.id, outs));
        if (emu.listObjects().length !== 0) throw new Error(`destroy left ${emu.listObjects().length} objects`);
        rows.push({ files: n, run, updateRemoving10: { ms: Math.round(upd.ms), requests: upd.requests }, destroy: { ms: Math.round(destroy.ms), requests: destroy.requests } });
        console.log(JSON.stringify(rows[rows.length - 1]));
      }
      fs.rmSync(src, { recursive: true, force: true });
    }
  } finally {
    await context.close();
    await emu.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(`dist: ${dist}; load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
