// A files resource's `dataPaths` list is made only when something reads it
// (lazy-output.ts): handed to an ImportJob, only the packed form is made,
// because the SDK runs every `apply` whether or not its result is used and
// the list costs about 30 MiB of the program's peak at 100,000 files. The
// lazy Output itself: what it answers without being made, and that it is a
// whole Output once used (apply, lifted access, pulumi.all, serialization as
// an input, its prototype, secrecy).
import * as pulumi from "@pulumi/pulumi";
import { encodeChanged } from "../../provider/resources/changed-files";
import { lazyOutput } from "../../provider/resources/lazy-output";
import { packedOf, unpackDataPaths, withPacked } from "../../provider/resources/packed-data-paths";
import type { Manifest } from "../../provider/upload/manifest";

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

describe("lazyOutput", () => {
  function counted<T>(value: T) {
    const made = { count: 0 };
    const out = lazyOutput(() => {
      made.count++;
      return pulumi.output(value);
    });
    return { out, made };
  }

  test("what the SDK probes is answered without making it: the marker, other __ names, symbols, then", async () => {
    const { out, made } = counted([["data/a.json"]]);
    expect(pulumi.Output.isInstance(out)).toBe(true);
    expect((out as unknown as Record<string, unknown>).__pulumiResource).toBeUndefined();
    expect((out as unknown as Record<PropertyKey, unknown>)[Symbol.toPrimitive]).toBeUndefined();
    expect((out as unknown as { then?: unknown }).then).toBeUndefined();
    expect("then" in out).toBe(false);
    // Not a promise: awaiting it gives the Output back, as for the SDK's own Outputs.
    expect(await Promise.resolve(out)).toBe(out);
    expect(made.count).toBe(0);
  });

  test("withPacked's marker stays on the lazy Output: an ImportJob finds the packed form without making the list", async () => {
    const { out, made } = counted([["data/a.json"]]);
    const marked = withPacked(out, () => pulumi.output("zp1:packed"));
    expect(await valueOf(packedOf(marked)!)).toBe("zp1:packed");
    expect(made.count).toBe(0);
  });

  test("used, it is made once and behaves as the Output it stands for", async () => {
    const { out, made } = counted([["data/a.json"], ["data/b.json"]]);
    expect("apply" in out).toBe(true);
    expect(await valueOf(out.apply((b) => b.length))).toBe(2);
    expect(await valueOf(out[1][0])).toBe("data/b.json");
    expect(await out.isKnown).toBe(true);
    expect(await out.isSecret).toBe(false);
    expect(await pulumi.runtime.serializeProperty("test", out, new Set())).toEqual([["data/a.json"], ["data/b.json"]]);
    expect(await valueOf(pulumi.all([out, "x"]))).toEqual([[["data/a.json"], ["data/b.json"]], "x"]);
    // An Output's prototype, as the SDK's own (instanceof, deep merges that keep class instances).
    expect(Object.getPrototypeOf(out)).toBe(Object.getPrototypeOf(pulumi.output(0)));
    expect(made.count).toBe(1);
  });

  test("a secret stays secret through it", async () => {
    const out = lazyOutput(() => pulumi.secret("s3cr3t"));
    expect(await out.isSecret).toBe(true);
    expect(await out.apply((s) => s.length).isSecret).toBe(true);
  });
});

describe("a files resource's dataPaths in a program (engine mocked)", () => {
  beforeEach(() => jest.resetModules());

  test("given to an ImportJob, the list is never made; read, it is", async () => {
    // The modules the program loads, fresh: the spy sees the program's calls.
    const codec = require("../../provider/upload/manifest-codec") as typeof import("../../provider/upload/manifest-codec");
    const decoded = jest.spyOn(codec, "manifestPaths");
    const manifest: Manifest = Object.create(null);
    for (const rel of ["a.json", "b.json", "__proto__.json"]) manifest[rel] = { size: 1, sha256: "0".repeat(64), mtimeMs: 1 };
    const registered = new Map<string, Record<string, unknown>>();
    const runtime = require("@pulumi/pulumi") as typeof pulumi;
    void runtime.runtime.setMocks(
      {
        async newResource(args) {
          registered.set(args.name, args.inputs);
          const state = args.type.endsWith(":StagedFiles")
            ? { ...args.inputs, path: "data/", manifest: codec.encodeManifest(manifest), changed: encodeChanged(["__proto__.json", "a.json", "b.json"], ["b.json"]) }
            : args.inputs;
          return { id: `${args.name}-id`, state };
        },
        call: (args) => args.inputs,
      },
      "lazy",
      "dev",
      false,
    );
    const { ImportJob, StagedFiles } = require("../../provider") as typeof import("../../provider");
    const files = new StagedFiles("files", { stageName: "raw", source: __dirname, path: "data/" });
    const job = new ImportJob("load", { clusterId: "in01-x", collectionName: "c", stageName: "raw", dataPaths: files.dataPaths });
    const fresh = new ImportJob("fresh", { clusterId: "in01-x", collectionName: "c", stageName: "raw", dataPaths: files.changedDataPaths, allowEmpty: true });
    await Promise.all([valueOf(job.urn), valueOf(fresh.urn)]);
    expect(unpackDataPaths(registered.get("load")!.dataPathsPacked as string)).toEqual([["data/__proto__.json"], ["data/a.json"], ["data/b.json"]]);
    expect(unpackDataPaths(registered.get("fresh")!.dataPathsPacked as string)).toEqual([["data/b.json"]]);
    // Once for each packed form, none for a list.
    expect(decoded).toHaveBeenCalledTimes(2);
    expect(await valueOf(files.dataPaths)).toEqual([["data/__proto__.json"], ["data/a.json"], ["data/b.json"]]);
    expect(await valueOf(files.changedDataPaths)).toEqual([["data/b.json"]]);
    expect(decoded).toHaveBeenCalledTimes(4);
  });
});
