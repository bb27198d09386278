// scripts/check-links.js, which CI runs over README.md and docs/*.md: it must
// go red on a link to a missing file or a missing heading, and stay green on
// the forms GitHub resolves (punctuation and backticks in headings, repeated
// headings, links to folders, links written inside code).
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

const SCRIPT = path.join(__dirname, "..", "..", "scripts", "check-links.js");

function run(root: string) {
  const r = spawnSync(process.execPath, [SCRIPT, root], { encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe("scripts/check-links.js", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rmTmp(d);
  });
  async function tree(files: Record<string, string>): Promise<string> {
    const dir = await mkTmp("zstages-links-");
    dirs.push(dir);
    await writeTree(dir, files);
    return dir;
  }

  test("resolves files, folders and GitHub's heading anchors", async () => {
    const root = await tree({
      "README.md": "[a](docs/a.md#pulumi-import-does-not-work-here) [b](docs/a.md#notes-1) [c](examples/) [d](#top) [e](https://example.com/x)\n# Top\n",
      "docs/a.md": "# `pulumi import` does not work here\n## Notes\n## Notes\n```\n[in a fence](missing.md)\n```\nand `[inline](missing.md)`\n[up](../README.md#top)\n",
      "examples/x.ts": "",
    });
    const r = run(root);
    expect(r.out).toContain("5 relative link(s) checked");
    expect(r.status).toBe(0);
  });

  test("fails on a missing file and on a missing anchor, naming file and line", async () => {
    const root = await tree({
      "README.md": "# Top\nsee [gone](docs/gone.md)\n",
      "docs/a.md": "# A\n\n[bad anchor](../README.md#bottom)\n",
    });
    const r = run(root);
    expect(r.status).toBe(1);
    expect(r.out).toContain("README.md:2: docs/gone.md: no such file docs/gone.md");
    expect(r.out).toContain("docs/a.md:3: ../README.md#bottom: no heading with the anchor #bottom in README.md");
    expect(r.out).toContain("2 broken link(s) of 2");
  });
});
