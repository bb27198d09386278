/**
 * Data merging and the generic jobs call: start a merge (`POST
 * /v2/etl/merge`), look at any job by id (`GET /v2/jobs/{jobId}`). A thin
 * layer over a RestClient like ImportJobClient: the same base URL, key,
 * envelope and retry policy.
 */
import { MERGE_PATHS, mergeDataSchema, jobSchema, JobReport } from "./merge-schemas";
import type { RestClient } from "./rest";
import type { z } from "zod";
import type { mergeRequestSchema } from "./merge-schemas";

/** A merge request as a caller writes it: defaults may be left out. */
export type MergeInput = z.input<typeof mergeRequestSchema>;

export class JobsClient {
  constructor(private readonly rest: RestClient) {}

  /**
   * Starts a merge and returns its job id. Not idempotent: retried only when
   * the failure shows nothing was started, or a second merge would race the
   * first for the same destination.
   */
  async merge(req: MergeInput): Promise<string> {
    const { jobId } = await this.rest.call({
      call: "merge",
      method: "POST",
      path: MERGE_PATHS.create,
      body: req,
      data: mergeDataSchema,
      idempotent: false,
    });
    return jobId;
  }

  /** A job's status, progress (a number) and times, whatever its type. */
  describe(jobId: string): Promise<JobReport> {
    return this.rest.call({ call: "describe job", method: "GET", path: MERGE_PATHS.jobs + encodeURIComponent(jobId), data: jobSchema });
  }
}
