/**
 * The CRUD logic behind `MergeJob`. Create starts one merge and follows it
 * with the generic jobs call; a merge that fails or outlives the timeout is
 * recorded anyway (a partial failure carrying its id), so the next `up`
 * follows that same job rather than starting a second merge. Runs inside
 * the dynamic-provider process, loaded at call time by the serialized shim.
 */
import type * as pulumi from "@pulumi/pulumi";
import { isNotFound } from "../client";
import { isJobRunning, JobReport } from "../client/merge-schemas";
import { ZillizApiError, ZillizMergeError } from "../errors";
import { connectionChanged } from "./connection";
import { checkProperties, isUnknown } from "./inputs";
import { pollJob } from "./job-poll";
import {
  DEFAULT_MERGE_TIMEOUT_SECONDS,
  MERGE_DEFINING_INPUTS,
  mergeCrossFieldFailures,
  MergeJobInputs,
  mergeJobInputsSchema,
  MergeJobOutputs,
  mergeOutputsFor,
  mergeRequestFor,
  mergeSourceOf,
  newFieldsKey,
} from "./merge-job-inputs";
import { partialFailure } from "./partial-failure";
import { ProviderContext } from "./provider-context";

/** Names the merge in lines and errors. */
function labelOf(inputs: Pick<MergeJobInputs, "collectionName" | "destCollectionName" | "volumeName" | "stageName">): string {
  const source = mergeSourceOf(inputs);
  return `MergeJob ${inputs.destCollectionName} <- ${inputs.collectionName} + ${source ? `${source.kind} ${source.name}` : "empty fields"}`;
}

export function formatJob(r: Pick<JobReport, "status" | "progress">): string {
  return `${r.status} ${r.progress}%`;
}

const DEST_EXISTS = /already exist|destination .*exist|exists/i;

/**
 * Which input a service message (a refusal or a job's reason) points at,
 * from the names it mentions. The service words its reasons freely, so
 * this looks for the inputs' own values rather than fixed phrases.
 */
export function inputToFix(message: string, inputs: MergeJobInputs): string | undefined {
  const mentions = (name: string | undefined) => !!name && new RegExp(`(^|[^A-Za-z0-9_])${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([^A-Za-z0-9_]|$)`).test(message);
  if (mentions(inputs.destCollectionName) && DEST_EXISTS.test(message)) {
    return `destCollectionName (${inputs.destCollectionName}): that collection already exists; pick a new destCollectionName (a merge never overwrites a collection)`;
  }
  for (const [i, f] of (inputs.newFields ?? []).entries()) {
    if (!mentions(f.fieldName)) continue;
    if (/maxLength|longer/i.test(message)) return `newFields[${i}].maxLength (${f.fieldName}: ${f.maxLength ?? "unset"})`;
    if (/type|fit/i.test(message)) return `newFields[${i}].dataType (${f.fieldName}: ${f.dataType}), or the Parquet column`;
    return `newFields[${i}] (${f.fieldName}), or the Parquet file at dataPath`;
  }
  if (mentions(inputs.mergeField)) return `mergeField (${inputs.mergeField}), or the Parquet file at dataPath`;
  if (inputs.dataPath && message.includes(inputs.dataPath)) return `dataPath (${inputs.dataPath})`;
  if (/volume|stage/i.test(message) && /not exist|not found/i.test(message)) return inputs.volumeName ? "volumeName" : "stageName";
  if (mentions(inputs.collectionName) && /not exist|not found/i.test(message)) return "collectionName (and dbName): the source collection must exist";
  if (/cluster/i.test(message) && /not exist|not found/i.test(message)) return "clusterId";
  return undefined;
}

export function mergeJobProvider(context: ProviderContext): pulumi.dynamic.ResourceProvider {
  const log = context.log;

  /** Follows the job until it ends or the timeout; a failure keeps the job in the state. */
  async function follow(jobId: string, inputs: MergeJobInputs): Promise<MergeJobOutputs> {
    const timeoutSeconds = inputs.timeoutSeconds ?? DEFAULT_MERGE_TIMEOUT_SECONDS;
    const label = labelOf(inputs);
    const { outcome, report } = await pollJob({
      look: () => context.jobs(inputs.connection).describe(jobId),
      ended: (r) => (r.status === "SUCCESSFUL" ? "done" : r.status === "FAILED" || r.status === "CANCELED" ? "failed" : undefined),
      format: formatJob,
      label,
      jobId,
      deadline: Date.now() + timeoutSeconds * 1000,
      log,
      everyMs: context.progressEveryMs,
    });
    const outs = mergeOutputsFor(inputs, jobId, report);
    if (outcome === "done") {
      log(`${label}: job ${jobId} SUCCESSFUL: collection ${outs.destCollectionName} created in database ${outs.destDbName}`);
      return outs;
    }
    let message: string;
    if (outcome === "failed") {
      const reason = report.reason || "the service gave no reason";
      const field = inputToFix(reason, inputs);
      message =
        `${label}: job ${jobId} ${report.status} at ${report.progress}%: ${reason}` +
        (field ? `\nThe input to fix: ${field}.` : "") +
        "\nA failed merge creates no collection: fix the input and run `pulumi up` again; it starts a new merge.";
    } else {
      message =
        `${label}: job ${jobId} is still ${formatJob(report)} after timeoutSeconds=${timeoutSeconds}. ` +
        "Nothing is lost: the merge keeps running on the service, and the next `pulumi up` follows this same job " +
        "(it does not start a second one). Raise timeoutSeconds, or set waitForCompletion: false to return as soon as the merge starts.";
    }
    throw partialFailure(new ZillizMergeError({ jobId, report, message }), jobId, outs, inputs);
  }

  /** One look at the job, for a resource that does not wait. */
  async function look(jobId: string, inputs: MergeJobInputs): Promise<MergeJobOutputs> {
    const report = await context.jobs(inputs.connection).describe(jobId);
    log(`${labelOf(inputs)}: job ${jobId} started, ${formatJob(report)} (not waiting: waitForCompletion is false)`);
    return mergeOutputsFor(inputs, jobId, report);
  }

  return {
    async configure(req) {
      context.configure(req);
    },

    async check(_olds, news) {
      const failures = [...checkProperties(mergeJobInputsSchema, news), ...mergeCrossFieldFailures(news)];
      return { inputs: news, failures };
    },

    async diff(_id, olds: MergeJobOutputs, news: MergeJobInputs) {
      // The databases as the state records them, defaults applied; an unknown value stays unknown.
      const dbName = news.dbName ?? "default";
      const wanted: Record<string, unknown> = { ...news, dbName, destDbName: news.destDbName ?? dbName };
      const replaces: string[] = MERGE_DEFINING_INPUTS.filter((k) => isUnknown(news[k]) || (olds[k] ?? "") !== (wanted[k] ?? ""));
      if (isUnknown(news.newFields) || newFieldsKey(olds.newFields) !== newFieldsKey(news.newFields)) replaces.push("newFields");
      const label = labelOf({ ...olds, ...news });
      // A failed merge created nothing: the next up starts a new one.
      if (replaces.length === 0 && (olds.status === "FAILED" || olds.status === "CANCELED")) {
        log(`${label}: the recorded job ${olds.jobId} ${olds.status} (${olds.reason || "no reason given"}); this update starts a new merge`);
        replaces.push("jobId");
      }
      const follows = replaces.length === 0 && isJobRunning(olds.status) && news.waitForCompletion !== false;
      if (follows) log(`${label}: the recorded job ${olds.jobId} is still ${olds.status}; this update follows it (no second merge)`);
      const settingsChanged =
        (olds.waitForCompletion ?? true) !== (news.waitForCompletion ?? true) ||
        (olds.timeoutSeconds ?? DEFAULT_MERGE_TIMEOUT_SECONDS) !== (news.timeoutSeconds ?? DEFAULT_MERGE_TIMEOUT_SECONDS) ||
        isUnknown(news.connection) ||
        connectionChanged(olds.connection, news.connection);
      return { changes: replaces.length > 0 || follows || settingsChanged, replaces, deleteBeforeReplace: false };
    },

    async create(inputs: MergeJobInputs) {
      let jobId: string;
      try {
        jobId = await context.jobs(inputs.connection).merge(mergeRequestFor(inputs));
      } catch (err) {
        if (!(err instanceof ZillizApiError)) throw err;
        const field = inputToFix(err.apiMessage, inputs);
        throw field ? err.with({ hint: `Check ${field}.` }) : err;
      }
      try {
        const outs = inputs.waitForCompletion === false ? await look(jobId, inputs) : await follow(jobId, inputs);
        return { id: jobId, outs };
      } catch (err) {
        // The merge runs whatever went wrong while watching it (a lost
        // answer, a stop): its id must reach the state all the same.
        if (err instanceof Error && !("id" in err)) throw partialFailure(err, jobId, mergeOutputsFor(inputs, jobId), inputs);
        throw err;
      }
    },

    async update(_id, olds: MergeJobOutputs, news: MergeJobInputs) {
      if (!isJobRunning(olds.status) || !olds.jobId) return { outs: mergeOutputsFor(news, olds.jobId, olds) };
      try {
        return { outs: news.waitForCompletion === false ? await look(olds.jobId, news) : await follow(olds.jobId, news) };
      } catch (err) {
        if (err instanceof Error && !("id" in err)) throw partialFailure(err, olds.jobId, mergeOutputsFor(news, olds.jobId, olds), news);
        throw err;
      }
    },

    async read(id, props?: MergeJobOutputs) {
      if (!props?.jobId) return { id, props: props ?? {} };
      try {
        const report = await context.jobs(props.connection).describe(props.jobId);
        return { id, props: { ...props, status: report.status, progress: report.progress, startTime: report.startTime, endTime: report.endTime, reason: report.reason } };
      } catch (err) {
        // The service forgets old jobs; dropping the resource would start the merge again.
        if (!isNotFound(err)) throw err;
        log(`${labelOf(props)}: the service no longer knows job ${props.jobId}; keeping its last recorded state (${props.status})`);
        return { id, props };
      }
    },

    async delete(_id, props: MergeJobOutputs) {
      // The API has no call to stop a job, and dropping a collection is not a merge's to do.
      const running = isJobRunning(props.status) ? ` Job ${props.jobId} may still be running; deleting the resource does not stop it.` : "";
      log(
        `${labelOf(props)}: deleting the resource leaves collection ${props.destCollectionName} (database ${props.destDbName}) in place.` +
          `${running} Drop the collection yourself (Zilliz Cloud console, or a drop-collection call) if you no longer want it.`,
      );
    },
  };
}
