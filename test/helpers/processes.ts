import { promises as fs } from "node:fs";

/** "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Every live descendant of `pid` (Linux, from /proc), with its command line. */
export async function descendants(pid: number): Promise<{ pid: number; command: string }[]> {
  const parents = new Map<number, number>();
  for (const name of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await fs.readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    if (stat) parents.set(Number(name), Number(statFields(stat)[1]));
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const [child, parent] of parents) {
      if (parent !== p || found.includes(child)) continue;
      found.push(child);
      queue.push(child);
    }
  }
  return Promise.all(
    found.map(async (p) => ({ pid: p, command: (await fs.readFile(`/proc/${p}/cmdline`, "utf8").catch(() => "")).split("\0").join(" ").trim() })),
  );
}

/** True while `pid` runs (a zombie, exited but not yet reaped, counts as gone). */
export async function running(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat !== "" && statFields(stat)[0] !== "Z";
}

/** Waits up to `ms` for every one of `pids` to be gone; resolves with those still running. */
export async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left: number[] = [];
    for (const p of pids) if (await running(p)) left.push(p);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}
