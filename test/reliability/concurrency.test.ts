// Several resources at once in one provider process, as the engine runs
// them: independent resources are created and updated in parallel by the
// same provider instance. Each must touch only its own objects, and together
// they must stay within the process's request bound.
import type * as pulumi from "@pulumi/pulumi";
import { Emulator, peakOverlap } from "../../provider/emulator";
import { ProviderContext } from "../../provider/resources/provider-context";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { capturingContext, configuredProvider } from "../helpers/provider";
import { emulatorWithStage } from "../helpers/stage";
import * as path from "node:path";
import { promises as fs } from "node:fs";

const PREFIX = "stages/p/shared/";

describe("concurrent resources in one provider process", () => {
  let emu: Emulator;
  let root: string;
  let context: ProviderContext;
  let provider: Required<pulumi.dynamic.ResourceProvider>;

  async function open(requestLimit?: number) {
    context = capturingContext([], requestLimit);
    const config = { "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url };
    ({ provider } = await configuredProvider("stagedFiles", config, context));
  }

  beforeEach(async () => {
    emu = await emulatorWithStage({ projectId: "p", stageName: "shared" });
    root = await mkTmp();
  });
  afterEach(async () => {
    await context?.close();
    await emu.stop();
    await rmTmp(root);
  });

  /** check + create, as the engine does for a new resource. */
  async function create(source: string, stagePath: string, extra: Record<string, unknown> = {}) {
    const { inputs, failures } = await provider.check({}, { stageName: "shared", source, path: stagePath, ...extra });
    expect(failures).toEqual([]);
    const { id, outs } = await provider.create(inputs);
    return { id, inputs, outs };
  }
  async function update(state: { id: string; inputs: any; outs: any }) {
    const { inputs, failures } = await provider.check(state.inputs, { ...state.inputs, manifest: undefined });
    expect(failures).toEqual([]);
    const { outs } = await provider.update(state.id, state.outs, inputs);
    return { id: state.id, inputs, outs };
  }
  const stored = (under = "") =>
    emu
      .listObjects(PREFIX + under)
      .map((o) => o.key.slice(PREFIX.length))
      .sort();

  test("two resources on nested paths of one stage, created, updated and deleted at the same time, keep to their own files", async () => {
    await open();
    const a = path.join(root, "a");
    const b = path.join(root, "b");
    await writeTree(a, { "1.json": "a1", "2.json": "a2", "old.json": "a-old" });
    await writeTree(b, { "1.json": "b1", "x/2.json": "b2" });
    // "data/" and "data/more/" overlap as prefixes: A's removals must never reach B's objects.
    let [ra, rb] = await Promise.all([create(a, "data/"), create(b, "data/more/")]);
    expect(stored()).toEqual(["data/1.json", "data/2.json", "data/more/1.json", "data/more/x/2.json", "data/old.json"]);

    await fs.rm(path.join(a, "old.json"));
    await writeTree(a, { "3.json": "a3" });
    await writeTree(b, { "1.json": "b1 changed", "y/3.json": "b3" });
    [ra, rb] = await Promise.all([update(ra), update(rb)]);
    expect(stored()).toEqual(["data/1.json", "data/2.json", "data/3.json", "data/more/1.json", "data/more/x/2.json", "data/more/y/3.json"]);
    expect((await emu.readObject(PREFIX + "data/more/1.json")).toString()).toBe("b1 changed");

    // Destroying A while B updates again: B's files survive, A's are gone.
    await writeTree(b, { "z.json": "bz" });
    await Promise.all([provider.delete(ra.id, ra.outs), update(rb)]);
    expect(stored()).toEqual(["data/more/1.json", "data/more/x/2.json", "data/more/y/3.json", "data/more/z.json"]);
  });

  test("fifty resources at once share the process's request bound and all arrive", async () => {
    await open(8);
    const sources = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const dir = path.join(root, `part-${i}`);
        await writeTree(dir, { "a.json": `a${i}`, "b.json": `b${i}`, "c/d.json": `d${i}` });
        return dir;
      }),
    );
    // Every put is slow, so without a shared bound 50 × 16 requests would pile up.
    emu.faults.add({ target: "s3:put", count: 150, delayMs: 30 });
    emu.clearRequests();
    const states = await Promise.all(sources.map((dir, i) => create(dir, `part-${i}/`, { concurrency: 16 })));
    expect(states.map((s) => s.outs.fileCount)).toEqual(Array(50).fill(3));
    expect(stored()).toHaveLength(150);
    for (let i = 0; i < 50; i += 7) expect((await emu.readObject(`${PREFIX}part-${i}/c/d.json`)).toString()).toBe(`d${i}`);
    const puts = emu.requests().filter((r) => r.kind === "s3:put");
    expect(puts).toHaveLength(150);
    expect(peakOverlap(puts)).toBe(8);
    expect(context.requests.inFlight).toBe(0);
  });
});
