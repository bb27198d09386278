/**
 * What the emulator's import jobs and merge jobs share: jobs kept in a map,
 * persisted to one JSON file under the data directory (so a restart resumes
 * them), and advanced one step every `stepMs` while any is still running.
 * What a step does is the caller's; this runs it, writes the result, and
 * stops cleanly.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { z } from "zod";

/** A time as the service writes it: ISO-8601 in UTC, to the second. */
export function timestamp(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export interface JobRunnerOptions<J extends { jobId: string }> {
  /** The JSON file the jobs persist to. */
  file: string;
  schema: z.ZodType<J>;
  /** How often running jobs advance. */
  stepMs: number;
  /** Names the runner in a warning when a step throws. */
  label: string;
  /** Whether a job still has steps to take. */
  running(job: J): boolean;
  /** Advances one running job by one step (the runner persists afterwards). */
  step(job: J): Promise<void>;
}

export class JobRunner<J extends { jobId: string }> {
  private readonly jobs = new Map<string, J>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stateWrite: Promise<void> = Promise.resolve();
  private stopped = false;

  private constructor(private readonly options: JobRunnerOptions<J>) {}

  /** Loads the jobs a previous run persisted (none when the file is absent) and resumes the running ones. */
  static async open<J extends { jobId: string }>(options: JobRunnerOptions<J>): Promise<JobRunner<J>> {
    const runner = new JobRunner(options);
    try {
      const saved = z.array(options.schema).parse(JSON.parse(await fs.readFile(options.file, "utf8")));
      for (const job of saved) runner.jobs.set(job.jobId, job);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    runner.wake();
    return runner;
  }

  /** Adds a job under a fresh id, persists it before answering, and starts it. */
  async create(init: Omit<J, "jobId">): Promise<string> {
    const job = { ...init, jobId: "job-" + randomBytes(11).toString("hex") } as J;
    this.jobs.set(job.jobId, job);
    await this.persist();
    this.wake();
    return job.jobId;
  }

  get(jobId: string): J | undefined {
    return this.jobs.get(jobId);
  }

  /** Every job, in the order they were created. */
  all(): J[] {
    return [...this.jobs.values()];
  }

  /** Stops advancing jobs and waits for the step in flight and its write. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    await this.stateWrite;
  }

  private wake(): void {
    if (this.stopped || this.timer) return;
    if (!this.all().some((j) => this.options.running(j))) return;
    this.timer = setTimeout(() => {
      this.ticking = this.step()
        .catch((err: Error) => process.emitWarning(`${this.options.label}: ${err.message}`))
        .finally(() => {
          this.timer = undefined;
          this.wake();
        });
    }, this.options.stepMs);
  }

  private async step(): Promise<void> {
    let changed = false;
    for (const job of this.jobs.values()) {
      if (this.stopped) break;
      if (!this.options.running(job)) continue;
      await this.options.step(job);
      changed = true;
    }
    if (changed) await this.persist();
  }

  private persist(): Promise<void> {
    // Serialized so that two quick changes never land out of order; one failed write does not stop the next.
    const write = this.stateWrite.then(async () => {
      const tmp = `${this.options.file}.${randomBytes(6).toString("hex")}.tmp`;
      await fs.writeFile(tmp, JSON.stringify(this.all()));
      await fs.rename(tmp, this.options.file);
    });
    this.stateWrite = write.catch(() => undefined);
    return write;
  }
}
