/**
 * Stopping cleanly when the provider process must go.
 *
 * The engine shuts a plugin down with SIGINT to its process group and
 * SIGKILL five seconds later; a double Ctrl-C makes it do that in the middle
 * of an upload. A CLI killed with -9 sends nothing at all: the provider,
 * reparented, would keep uploading for nobody. Either way, work in hand is
 * abandoned the same way: no new request starts, multipart uploads in
 * flight are aborted (an incomplete one costs storage and hides from
 * listings), and the process exits. What arrived is found again by the next
 * run (upload/recover.ts).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { ZillizStoppedError } from "../errors";

/** The SDK starts the dynamic provider through this shell script, which runs node as its child. */
const WRAPPER = "pulumi-resource-pulumi-nodejs";

export interface ShutdownOptions {
  /** How often to look for the engine. Default 500 ms. */
  pollMs?: number;
  /** How long running work may take to wind down before the process exits. Default 4 s, inside the engine's 5. */
  graceMs?: number;
  /** Where the one line about stopping goes. Default stderr, which the engine shows. */
  log?: (line: string) => void;
}

/** The parent of `pid` (Linux, from /proc), or undefined when it is gone or cannot be read. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** The command line of `pid` and its parent: /proc on Linux, `ps` once elsewhere. */
function describe(pid: number): { command: string; parent?: number } {
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
    return { command, parent: parentOf(pid) };
  } catch {
    try {
      const out = execFileSync("ps", ["-o", "ppid=,command=", "-p", String(pid)], { encoding: "utf8", timeout: 2000 }).trim();
      const m = /^(\d+)\s+(.*)$/.exec(out);
      return m ? { command: m[2], parent: Number(m[1]) } : { command: "" };
    } catch {
      return { command: "" };
    }
  }
}

/**
 * A test of whether the engine that started this process is gone. The
 * engine is our parent, or, when our parent is the SDK's wrapper script
 * (which outlives a killed engine, waiting on us), the wrapper's parent.
 */
export function engineWatch(proc: Pick<NodeJS.Process, "ppid"> = process): () => boolean {
  const parent = proc.ppid;
  const seen = describe(parent);
  const engine = seen.command.includes(WRAPPER) ? seen.parent : undefined;
  return () => {
    if (proc.ppid !== parent) return true;
    if (engine === undefined) return false;
    const now = parentOf(parent);
    if (now !== undefined) return now !== engine;
    // No /proc: is the engine still there at all?
    try {
      process.kill(engine, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "ESRCH";
    }
  };
}

/**
 * Owns the provider process's stop: one AbortSignal that every upload of the
 * process runs under, the SIGINT/SIGTERM handlers, and the watch for the
 * engine. Only the provider process arms it (runtime.ts); elsewhere (tests,
 * a program) it is a signal nobody aborts.
 */
export class ShutdownGuard {
  private readonly controller = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  private stopping?: Promise<void>;
  private armed = false;

  constructor(private readonly options: ShutdownOptions = {}) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Work in hand right now. */
  get inFlight(): number {
    return this.running.size;
  }

  /**
   * Installs the handlers and the engine watch (once). The timer is unref'd:
   * it never keeps the process alive by itself.
   */
  arm(proc: NodeJS.Process = process): void {
    if (this.armed) return;
    this.armed = true;
    // Once the engine is gone, so is the reader of our stdout and stderr: a
    // write fails with EPIPE, and that stream error, unhandled, reaches the
    // SDK's uncaughtException handler, which writes to stderr again: a loop
    // that keeps the process spinning instead of exiting. Output nobody can
    // read is dropped.
    for (const stream of [proc.stdout, proc.stderr]) stream.on("error", () => undefined);
    const exit = (code: number) => () => proc.exit(code);
    for (const [sig, code] of [
      ["SIGINT", 130],
      ["SIGTERM", 143],
    ] as const) {
      proc.on(sig, () => void this.stop(sig).then(exit(code)));
    }
    const gone = engineWatch(proc);
    const timer = setInterval(() => {
      if (!gone()) return;
      clearInterval(timer);
      void this.stop("the engine exited", { quiet: true }).then(exit(1));
    }, this.options.pollMs ?? 500);
    timer.unref();
  }

  /** Runs `work` under the guard's signal; refused once the process is stopping. */
  run<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.signal.aborted) return Promise.reject(this.signal.reason as ZillizStoppedError);
    const p = work(this.signal);
    const tracked = p.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(tracked);
    void tracked.then(() => this.running.delete(tracked));
    return p;
  }

  /**
   * Aborts the signal and waits for the work in hand to wind down (its
   * multipart uploads aborted), at most `graceMs`. Resolves when done;
   * the caller decides whether the process exits. `quiet`: print nothing
   * (no one is left to read it).
   */
  stop(reason: string, { quiet = false } = {}): Promise<void> {
    this.stopping ??= (async () => {
      if (this.running.size > 0 && !quiet) {
        const log = this.options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
        log(`zillizcloud provider: ${reason}: stopping ${this.running.size} upload(s); incomplete multipart uploads are aborted`);
      }
      this.controller.abort(new ZillizStoppedError(reason));
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.graceMs ?? 4000);
      });
      await Promise.race([Promise.all(this.running), grace]);
      clearTimeout(timer);
    })();
    return this.stopping;
  }
}
