/**
 * Fault injection: fail, reset, stall or slow down the next requests of a
 * kind, or do what they ask and then lose the answer, so tests can prove
 * what the client and the upload engine do when the service misbehaves.
 */
import { z } from "zod";

export const REQUEST_KINDS = [
  "create",
  "list",
  "describe",
  "delete",
  "apply",
  "update",
  "s3:put",
  "s3:part",
  "s3:initiate",
  "s3:complete",
  "s3:abort",
  "s3:get",
  "s3:head",
  "s3:list",
  "s3:delete",
  "s3:deleteMany",
  "s3:listUploads",
  "s3:other",
  "import:create",
  "import:progress",
  "import:list",
  "merge:create",
  "jobs:describe",
] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** Faults that strike a background job rather than a request; "*" does not reach them. */
export const JOB_FAULT_TARGETS = ["import:job", "merge:job"] as const;
export type JobFaultTarget = (typeof JOB_FAULT_TARGETS)[number];

export const faultSpecSchema = z.object({
  target: z.enum([...REQUEST_KINDS, ...JOB_FAULT_TARGETS, "s3:*", "*"]),
  count: z.number().int().positive().default(1),
  skip: z.number().int().nonnegative().default(0),
  /**
   * "lose-answer" (REST and import calls): the request is carried out (a job
   * is created, a stage deleted), then the connection is reset instead of
   * answering: "done, but the client cannot know".
   */
  /**
   * "corrupt" (s3:put, s3:part): one byte of the body is flipped on its way
   * in, as a faulty network card or proxy would, so a test can see what
   * catches it.
   */
  mode: z.enum(["status", "reset", "stall", "lose-answer", "corrupt"]).optional(),
  status: z.number().int().min(100).max(599).optional(),
  retryAfterSeconds: z.number().nonnegative().optional(),
  delayMs: z.number().int().nonnegative().optional(),
  /** import:job, merge:job: the progress (0-100) at which the job fails, default 50, and the reason it reports. */
  atProgress: z.number().int().min(0).max(100).optional(),
  reason: z.string().min(1).optional(),
});
export type FaultSpec = z.input<typeof faultSpecSchema>;
type Fault = z.output<typeof faultSpecSchema>;

/** What to do with one request. */
export type FaultAction =
  | { kind: "none" }
  | { kind: "delay"; delayMs: number }
  | { kind: "status"; status: number; retryAfterSeconds?: number; delayMs: number }
  | { kind: "reset"; delayMs: number }
  | { kind: "lose"; delayMs: number }
  | { kind: "corrupt"; delayMs: number }
  | { kind: "stall" };

export class FaultInjector {
  private faults: Fault[] = [];

  /** Queues a fault; it applies to the next matching requests after `skip` of them pass. */
  add(spec: FaultSpec): void {
    this.faults.push(faultSpecSchema.parse(spec));
  }

  clear(): void {
    this.faults = [];
  }

  /** Faults still waiting to fire. */
  pending(): number {
    return this.faults.length;
  }

  /** Requests the queued faults would still fail, delay or stall (skips not counted). */
  remaining(): number {
    return this.faults.reduce((n, f) => n + f.count, 0);
  }

  /** Consumes one use of the first job fault for `target`: where the job will fail, and why. */
  takeJobFault(target: JobFaultTarget): { atProgress: number; reason: string } | undefined {
    const fault = this.consume((f) => f.target === target);
    return fault && { atProgress: fault.atProgress ?? 50, reason: fault.reason ?? "injected fault" };
  }

  /** The first fault `match` accepts, once its skips have passed; uses up one of its count. */
  private consume(match: (f: Fault) => boolean): Fault | undefined {
    const fault = this.faults.find(match);
    if (!fault) return undefined;
    if (fault.skip > 0) {
      fault.skip--;
      return undefined;
    }
    if (--fault.count <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    return fault;
  }

  /** Consumes the first fault that matches `kind`. */
  next(kind: RequestKind): FaultAction {
    const fault = this.consume((f) => f.target === kind || f.target === "*" || (f.target === "s3:*" && kind.startsWith("s3:")));
    if (!fault) return { kind: "none" };
    const delayMs = fault.delayMs ?? 0;
    if (fault.mode === "stall") return { kind: "stall" };
    if (fault.mode === "reset") return { kind: "reset", delayMs };
    if (fault.mode === "lose-answer") return { kind: "lose", delayMs };
    if (fault.mode === "corrupt") return { kind: "corrupt", delayMs };
    if (fault.mode === undefined && fault.status === undefined && delayMs > 0) return { kind: "delay", delayMs };
    return { kind: "status", status: fault.status ?? 500, retryAfterSeconds: fault.retryAfterSeconds, delayMs };
  }
}
