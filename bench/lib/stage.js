// The stage every tool uploads into: an emulator in this process, one stage,
// one apply call whose temporary credentials every tool shares, and helpers
// to count what arrived per prefix and to empty a prefix between runs.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { ListObjectsV2Command, DeleteObjectsCommand } = require("@aws-sdk/client-s3");
const { startEmulator } = require("../../dist/provider/emulator");
const { StageClient } = require("../../dist/provider/client");
const { createS3Client } = require("../../dist/provider/upload/s3");

const MiB = 1024 * 1024;

/**
 * Where the emulator keeps objects: tmpfs when the machine has one with room,
 * so that what is measured is the clients and not how fast this machine's
 * disk creates files (every tool pays the store's cost, and on a virtual
 * disk it dominated every run). BENCH_STORE_DIR overrides.
 */
function storeDir(work) {
  const wanted = process.env.BENCH_STORE_DIR ?? "/dev/shm";
  try {
    const st = fs.statfsSync(wanted);
    if (st.bavail * st.bsize >= 4 * 1024 * MiB) return fs.mkdtempSync(path.join(wanted, "zstages-bench-store-"));
  } catch {
    // No tmpfs here: the work directory will do.
  }
  return path.join(work, "emulator");
}

async function openStage(work) {
  const dataDir = storeDir(work);
  const emu = await startEmulator({
    dataDir,
    // Long enough that no tool ever meets an expiry mid-run.
    credentialTtlSeconds: 24 * 3600,
    maxContentLength: 64 * 1024 * MiB,
  });
  const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
  let target;
  try {
    await client.createStage({ projectId: "bench", regionId: "local", stageName: "bench" });
    target = await client.applyUploadTarget({ stageName: "bench", path: "" });
  } finally {
    await client.close();
  }
  const targetFile = path.join(work, "target.json");
  fs.writeFileSync(targetFile, JSON.stringify(target), { mode: 0o600 });
  // Built as the provider builds its own, with the apply answer's credentials.
  const s3 = createS3Client(target);

  const under = (prefix) => target.stagePrefix + prefix;
  return {
    emu,
    target,
    targetFile,
    /** Deletes every object under the stage prefix + prefix (keeps the emulator's disk use down). */
    async clear(prefix) {
      for (;;) {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: target.bucketName, Prefix: under(prefix) }));
        if (!page.Contents?.length) return;
        await s3.send(
          new DeleteObjectsCommand({ Bucket: target.bucketName, Delete: { Objects: page.Contents.map((o) => ({ Key: o.Key })), Quiet: true } }),
        );
      }
    },
    /** Requests the emulator saw under a prefix since the last clearRequests: payload bytes and counts per kind. */
    traffic(prefix) {
      const p = under(prefix);
      const out = { bytesSent: 0, kinds: {} };
      for (const r of emu.requests()) {
        // LIST requests carry their prefix in the query, not a key: count them all (one tool runs at a time).
        if (r.key !== undefined ? !r.key.startsWith(p) : r.kind !== "s3:list") continue;
        out.kinds[r.kind] = (out.kinds[r.kind] ?? 0) + 1;
        if (r.kind === "s3:put" || r.kind === "s3:part") {
          // A CopyObject is a PUT without a body: metadata only.
          out.bytesSent += r.bytes;
        }
      }
      return out;
    },
    objects(prefix) {
      return emu.listObjects(under(prefix));
    },
    dataDir,
    async close() {
      s3.destroy();
      await emu.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

module.exports = { openStage, storeDir };
