// What the user reads: the change summary diff prints and the progress line.
import { createHash } from "node:crypto";
import { formatProgress, LISTED_FILES, ProgressReporter, summarizeChanges } from "../../provider/resources/file-report";
import { Manifest, planChanges } from "../../provider/upload";

const entry = (size: number, content = String(size)) => ({ size, sha256: createHash("sha256").update(content).digest("hex"), mtimeMs: 1 });

function tree(n: number, size = 4096): Manifest {
  const m: Manifest = {};
  for (let i = 0; i < n; i++) m[`f-${String(i).padStart(5, "0")}.parquet`] = entry(size, `v1 ${i}`);
  return m;
}

describe("change summary", () => {
  test("ten changes among 10,000 files: each named with its size, in path order", () => {
    const previous = tree(10_000);
    const next = { ...previous };
    for (let i = 0; i < 4; i++) next[`new/${i}.parquet`] = entry(4096, `new ${i}`);
    for (let i = 0; i < 3; i++) next[`f-0000${i}.parquet`] = entry(5000, `v2 ${i}`);
    for (let i = 5; i < 8; i++) delete next[`f-0000${i}.parquet`];
    const lines = summarizeChanges({ label: "StagedFiles raw/data/", path: "data/", plan: planChanges(previous, next), previous, next, keepRemoved: false });
    expect(lines).toEqual([
      "StagedFiles raw/data/: 4 added, 3 changed, 3 removed (30.6 KiB to upload); 9,994 files unchanged",
      "  ~ data/f-00000.parquet (4.9 KiB, was 4.0 KiB)",
      "  ~ data/f-00001.parquet (4.9 KiB, was 4.0 KiB)",
      "  ~ data/f-00002.parquet (4.9 KiB, was 4.0 KiB)",
      "  - data/f-00005.parquet (4.0 KiB)",
      "  - data/f-00006.parquet (4.0 KiB)",
      "  - data/f-00007.parquet (4.0 KiB)",
      "  + data/new/0.parquet (4.0 KiB)",
      "  + data/new/1.parquet (4.0 KiB)",
      "  + data/new/2.parquet (4.0 KiB)",
      "  + data/new/3.parquet (4.0 KiB)",
    ]);
  });

  test("10,000 changes: counts, the first files, how many more; never a dump", () => {
    const previous = tree(5_000);
    const next: Manifest = {};
    for (const rel of Object.keys(previous)) next[rel] = entry(4096, `v2 ${rel}`);
    for (let i = 0; i < 5_000; i++) next[`z/${i}.json`] = entry(100, `z ${i}`);
    const lines = summarizeChanges({ label: "StagedFiles raw/", path: "", plan: planChanges(previous, next), previous, next, keepRemoved: false });
    expect(lines.length).toBe(LISTED_FILES + 2);
    expect(lines.length).toBeLessThanOrEqual(35);
    expect(lines[0]).toBe("StagedFiles raw/: 5,000 added, 5,000 changed, 0 removed (20.0 MiB to upload); 0 files unchanged");
    expect(lines[1]).toBe("  ~ f-00000.parquet (4.0 KiB)");
    expect(lines[lines.length - 1]).toBe("  ... and 9,970 more files");
  });

  test("nothing for no change; removals that stay say so", () => {
    const m = tree(3);
    expect(summarizeChanges({ label: "x", path: "", plan: planChanges(m, m), previous: m, next: m, keepRemoved: false })).toEqual([]);
    const next = { ...m };
    delete next["f-00001.parquet"];
    const lines = summarizeChanges({ label: "x", path: "", plan: planChanges(m, next), previous: m, next, keepRemoved: true });
    expect(lines[0]).toMatch(/0 added, 0 changed, 1 removed .*removed files stay in the stage \(deleteRemoved: false\)$/);
  });
});

describe("progress", () => {
  test("a line: files and bytes done of total, rate, time left", () => {
    const line = formatProgress("StagedFiles raw/", { filesDone: 2_500, filesTotal: 10_000, bytesDone: 10 * 2 ** 20, bytesTotal: 40 * 2 ** 20 }, 20);
    expect(line).toBe("StagedFiles raw/: uploaded 2,500 of 10,000 files, 10.0 MiB of 40.0 MiB (25.0%), 512.0 KiB/s, about 1 min 0 s left");
  });

  test("at most one line per interval, none at the end", () => {
    let now = 0;
    const lines: string[] = [];
    const r = new ProgressReporter("L", (l) => lines.push(l), 10_000, () => now);
    const p = (filesDone: number) => ({ filesDone, filesTotal: 100, bytesDone: filesDone, bytesTotal: 100 });
    for (let i = 1; i <= 99; i++) {
      now += 500; // 2 files a second: 49.5 s in all
      r.update(p(i));
    }
    expect(lines).toHaveLength(4); // at 10, 20, 30 and 40 s
    expect(lines[0]).toMatch(/^L: uploaded 20 of 100 files/);
    now += 60_000;
    r.update(p(100));
    expect(lines).toHaveLength(4);
  });
});
