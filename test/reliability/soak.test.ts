// Soak: many create / upload / update / delete cycles against the emulator
// with random faults, driven the way the engine drives the providers (a
// failed step is run again, a partial failure's recorded state is what the
// rerun starts from). At the end every stage and object is accounted for.
//
// Short in `npm test` (SOAK_CYCLES, default 15); `npm run soak` runs 200.
// SOAK_SEED replays a run; SOAK_SECONDS bounds it in time; SOAK_REPORT=1 prints the summary of a passing run.
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { Emulator, startEmulator } from "../../provider/emulator";
import type { FaultSpec } from "../../provider/emulator/faults";
import { ProviderContext } from "../../provider/resources/provider-context";
import { manifestPaths } from "../../provider/upload";
import { mkTmp, rmTmp } from "../helpers/fs";
import { capturingContext, configuredProvider } from "../helpers/provider";

const CYCLES = Number(process.env.SOAK_CYCLES ?? 15);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
/** Reruns of one step before the soak gives up on it; the last ones run without faults. */
const RERUNS = 6;
const FAULTY_RUNS = 3;

jest.setTimeout((SECONDS + 60) * 1000);

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with SOAK_SEED. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] };
}

type Kind = "create" | "delete" | "apply" | "s3:put" | "s3:deleteMany";
/** The faults one kind of request can meet: errors, throttling and dropped connections. */
function faultsFor(target: Kind): FaultSpec[] {
  const common: FaultSpec[] = [
    { target, status: 500 },
    { target, status: 503 },
    { target, mode: "reset" },
  ];
  return target.startsWith("s3:") ? common : [...common, { target, status: 429, retryAfterSeconds: 0 }];
}

describe("soak", () => {
  let emu: Emulator;
  let work: string;
  let contexts: ProviderContext[];
  let stageProvider: Required<pulumi.dynamic.ResourceProvider>;
  let filesProvider: Required<pulumi.dynamic.ResourceProvider>;

  beforeAll(async () => {
    emu = await startEmulator();
    work = await mkTmp("zstages-soak-");
    // One context per kind, as the provider process has (runtime.providerFor).
    contexts = [capturingContext(), capturingContext()];
    const config = { "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url };
    ({ provider: stageProvider } = await configuredProvider("stage", config, contexts[0]));
    ({ provider: filesProvider } = await configuredProvider("stagedFiles", config, contexts[1]));
  });
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await emu.stop();
    await rmTmp(work);
  });

  test(`${CYCLES} cycles with random faults leave every stage and object accounted for`, async () => {
    const rnd = prng(SEED);
    const counts = {
      cycles: 0,
      faultsInjected: 0,
      faultsFired: 0,
      stepsRun: 0,
      stepsFailedThenRerun: 0,
      partialFailuresRecorded: 0,
      stagesCreated: 0,
      stagesDeleted: 0,
      filesUploaded: 0,
      filesRemoved: 0,
    };
    const deadline = Date.now() + SECONDS * 1000;

    /** One engine step, rerun until it succeeds; faults on the first FAULTY_RUNS runs only. */
    async function step<T>(name: string, kinds: Kind[], run: () => Promise<T>, onFailure?: (err: any) => void): Promise<T> {
      for (let attempt = 1; attempt <= RERUNS; attempt++) {
        if (attempt <= FAULTY_RUNS && rnd.next() < 0.6) {
          const spec = rnd.pick(faultsFor(rnd.pick(kinds)));
          // Mostly within the retries (1-3), sometimes beyond them (8) so the step fails and is rerun.
          const count = rnd.next() < 0.8 ? 1 + rnd.int(3) : 8;
          // Puts come many to a step: let a few through first, so failures land mid-upload.
          emu.faults.add({ ...spec, count, skip: spec.target === "s3:put" ? rnd.int(3) : 0 });
          counts.faultsInjected += count;
        }
        const armed = emu.faults.remaining();
        counts.stepsRun++;
        try {
          return await run();
        } catch (err) {
          counts.stepsFailedThenRerun++;
          onFailure?.(err);
          if (attempt === RERUNS) throw new Error(`${name} failed ${RERUNS} times (seed ${SEED}): ${(err as Error).message}`);
        } finally {
          counts.faultsFired += armed - emu.faults.remaining();
          emu.faults.clear();
        }
      }
      throw new Error("unreachable");
    }

    async function writeFiles(dir: string, names: string[]) {
      for (const name of names) {
        const file = path.join(dir, name);
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, `${name} ${rnd.next()} `.repeat(1 + rnd.int(2000)));
      }
    }
    /** The stage's objects under data/ must be exactly the local files, byte for byte. */
    async function assertMirrors(stageName: string, dir: string) {
      const prefix = `stages/soak/${stageName}/data/`;
      const remote = emu.listObjects(prefix).map((o) => o.key.slice(prefix.length)).sort();
      const local = (await fs.readdir(dir, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
        .sort();
      expect(remote).toEqual(local);
      for (const rel of local) {
        const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
        expect(sha(await emu.readObject(prefix + rel))).toBe(sha(await fs.readFile(path.join(dir, rel))));
      }
    }

    for (let i = 0; i < CYCLES && Date.now() < deadline; i++) {
      const stageName = `soak_${i}`;
      const dir = path.join(work, stageName);
      await writeFiles(dir, Array.from({ length: 1 + rnd.int(6) }, (_, k) => `${rnd.pick(["", "sub/", "sub/deep/"])}f${k}.json`));

      const stage = { projectId: "soak", regionId: "local", stageName };
      const created = await step("create stage", ["create"], () => stageProvider.create(stage));
      counts.stagesCreated++;

      // A partial failure hands the engine an id and the properties to record; the rerun updates from them.
      let files: { id: string; outs: any } | undefined;
      const record = (err: any) => {
        if (err?.id && err?.properties) {
          files = { id: err.id, outs: err.properties };
          counts.partialFailuresRecorded++;
        }
      };
      const checked = async (olds: any) => {
        const { inputs, failures } = await filesProvider.check(olds ?? {}, { stageName, source: dir, path: "data/" });
        expect(failures).toEqual([]);
        return inputs;
      };
      const up = async () => {
        const news = await checked(files?.outs);
        if (!files) {
          files = await filesProvider.create(news);
        } else {
          const diff = await filesProvider.diff(files.id, files.outs, news);
          if (diff.changes) files = { id: files.id, outs: (await filesProvider.update(files.id, files.outs, news)).outs };
        }
      };
      await step("upload", ["apply", "s3:put"], up, record);
      await assertMirrors(stageName, dir);
      counts.filesUploaded += files!.outs.fileCount;

      // Change one, add one, remove one; the rerun-until-done must converge on the new tree.
      const names = manifestPaths(files!.outs.manifest);
      await writeFiles(dir, [rnd.pick(names), `added-${i}.json`]);
      const gone = rnd.pick(names);
      if (names.length > 1) {
        await fs.rm(path.join(dir, gone));
        counts.filesRemoved++;
      }
      await step("update", ["apply", "s3:put", "s3:deleteMany"], up, record);
      await assertMirrors(stageName, dir);

      await step("delete files", ["apply", "s3:deleteMany"], () => filesProvider.delete(files!.id, files!.outs));
      expect(emu.listObjects(`stages/soak/${stageName}/`)).toEqual([]);
      await step("delete stage", ["delete"], () => stageProvider.delete(created.id, created.outs));
      counts.stagesDeleted++;
      await rmTmp(dir);
      counts.cycles++;
    }

    // Everything accounted for: no stage, no object, no pending multipart upload left behind.
    const leftovers = { stages: emu.listStageNames(), objects: emu.listObjects().length };
    // The summary goes with a failure (its seed replays the run), or to the
    // console when SOAK_REPORT asks: a passing `npm test` prints only jest's lines.
    const summary = `soak (seed ${SEED}): ${JSON.stringify({ ...counts, leftovers })}`;
    if (process.env.SOAK_REPORT) console.log(summary);
    try {
      expect(leftovers).toEqual({ stages: [], objects: 0 });
      expect(counts.stagesCreated).toBe(counts.stagesDeleted);
      expect(counts.cycles).toBeGreaterThanOrEqual(Math.min(CYCLES, 5));
      expect(counts.faultsFired).toBeGreaterThan(0);
    } catch (err) {
      (err as Error).message += `\n${summary}`;
      throw err;
    }
  });
});
