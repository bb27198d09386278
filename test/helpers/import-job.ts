// An import job made outside Pulumi, as a user's script would start it: one
// create call on the emulator, then its progress until it ends.
import { ImportJobClient, type ZillizClient } from "../../provider/client";
import type { CreateImportJobInput, ImportTarget } from "../../provider/client/import-client";
import type { ImportJobProgress } from "../../provider/client/import-schemas";

/** Starts a job and returns its last report, once Completed or Failed (within 20 s). */
export async function endedImportJob(client: ZillizClient, job: CreateImportJobInput): Promise<ImportJobProgress> {
  const jobs = new ImportJobClient(client);
  const jobId = await jobs.create(job);
  const target: ImportTarget = job.clusterId ? { clusterId: job.clusterId } : { projectId: job.projectId!, regionId: job.regionId! };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const report = await jobs.progress(target, jobId);
    if (report.state === "Completed" || report.state === "Failed") return report;
    if (Date.now() > deadline) throw new Error(`import job ${jobId} did not end: ${JSON.stringify(report)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
