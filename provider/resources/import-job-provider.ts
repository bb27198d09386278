/**
 * The CRUD logic behind `ImportJob`. Create starts one job and follows it;
 * a job that fails or outlives the timeout is recorded anyway (a partial
 * failure carrying its id), so the next `up` follows that same job rather
 * than importing the rows a second time. Runs inside the dynamic-provider
 * process, loaded at call time by the serialized shim.
 */
import type * as pulumi from "@pulumi/pulumi";
import { isNotFound } from "../client";
import { ZillizApiError, ZillizImportError, ZillizValidationError } from "../errors";
import { connectionChanged } from "./connection";
import {
  crossFieldFailures,
  dataPathsHash,
  DEFAULT_TIMEOUT_SECONDS,
  IMPORT_DEFINING_INPUTS,
  ImportJobInputs,
  importJobInputsSchema,
  ImportJobOutputs,
  isRunning,
  LOST_ANSWER_ID,
  NO_JOB_ID,
  outputsFor,
  packedFailures,
  SKIPPED,
  sourceOf,
  targetOf,
  UNKNOWN_STATE,
  withDataPaths,
  withReport,
  withSettings,
} from "./import-job-inputs";
import { importedDiff } from "./import-job-imported";
import { labelOf, namedFailure, refusedCreate } from "./import-job-messages";
import { importedList, sameKeys } from "./import-job-object-urls";
import { findLostJob, LostJobSearch, lostAnswerError, mayHaveStarted } from "./import-job-recovery";
import { checkExternalPaths, checkStagedPaths } from "./import-job-sources";
import { followJob, formatProgress } from "./import-job-wait";
import { checkProperties, isUnknown, onePerProperty, unknownInputFailures } from "./inputs";
import { partialFailure } from "./partial-failure";
import { ProviderContext } from "./provider-context";

/** Outputs the class seeds as undefined (import-job.ts), and so arrive with the inputs. */
const IMPORT_JOB_OUTPUT_KEYS = ["jobId", "state", "progress", "importedRows", "totalRows", "fileSize", "completeTime", "reason"];

export function importJobProvider(context: ProviderContext): pulumi.dynamic.ResourceProvider {
  const log = context.log;

  /**
   * Refuses paths that are not in the source, naming the field; starts
   * nothing. The user's bucket is not looked into: its endpoint and region
   * are the service's business, and the keys are for the service. A missing
   * object fails the job with a reason that names objectUrls[i][j].
   */
  async function preflight(inputs: ImportJobInputs): Promise<void> {
    const source = sourceOf(inputs);
    if (source.kind === "bucket") return;
    const dataPaths = inputs.dataPaths ?? [];
    if (source.kind === "volume") {
      const volume = await context.client(inputs.connection).describeVolume(source.name);
      if (!volume) throw new ZillizValidationError("volumeName", `volume ${source.name} does not exist: create it first (or fix the name)`);
      if (volume.type === "EXTERNAL") return checkExternalPaths(volume, dataPaths);
    }
    await checkStagedPaths(context.client(inputs.connection), { kind: source.kind, name: source.name }, dataPaths);
  }

  /** Follows the job until it ends or the timeout; a failure keeps the job in the state. */
  async function follow(jobId: string, inputs: ImportJobInputs): Promise<ImportJobOutputs> {
    const timeoutSeconds = inputs.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    try {
      const report = await followJob({
        client: context.importJobs(inputs.connection),
        target: targetOf(inputs),
        jobId,
        label: labelOf(inputs),
        deadline: Date.now() + timeoutSeconds * 1000,
        timeoutSeconds,
        log,
        everyMs: context.progressEveryMs,
      });
      return outputsFor(inputs, { jobId, report });
    } catch (err) {
      if (!(err instanceof ZillizImportError)) throw err;
      const named = namedFailure(err, inputs);
      throw partialFailure(named, err.jobId, outputsFor(inputs, { jobId: err.jobId, report: named.report }), inputs);
    }
  }

  /**
   * After a create that may have started a job but lost its answer: the job
   * it started, found by list and describe, or a partial failure that
   * records state Unknown and the attempt's time, so the next `up` looks
   * again before it starts another job.
   */
  async function afterLostAnswer(err: Error, inputs: ImportJobInputs, attemptedAt: number, resourceId: string): Promise<string> {
    const label = labelOf(inputs);
    log(`${label}: the answer to create was lost (${err.message}); looking for the job it may have started`);
    const search = await searchLostJob(inputs, attemptedAt);
    if ("found" in search) {
      log(`${label}: found job ${search.found}, started by that create (same collection and files, created since); following it, no second job`);
      return search.found;
    }
    throw partialFailure(
      lostAnswerError(labelOf(inputs), err, inputs, search),
      resourceId,
      outputsFor(inputs, { jobId: "", state: UNKNOWN_STATE, attemptedAt: new Date(attemptedAt).toISOString() }),
      inputs,
    );
  }

  /** findLostJob for these inputs; a search that itself fails cannot tell. */
  async function searchLostJob(inputs: ImportJobInputs, attemptedAt: number): Promise<LostJobSearch | { failed: Error }> {
    try {
      return await findLostJob({
        client: context.importJobs(inputs.connection),
        target: targetOf(inputs),
        collectionName: inputs.collectionName!,
        dbName: inputs.dbName,
        dataPaths: importedList(inputs).batches,
        attemptedAt,
      });
    } catch (err) {
      return { failed: err as Error };
    }
  }

  /** Starts a job for `inputs` and follows it (or looks once); `resourceId` when an update starts it. */
  async function start(inputs: ImportJobInputs, resourceId?: string): Promise<{ id: string; outs: ImportJobOutputs }> {
    await preflight(inputs);
    const attemptedAt = Date.now();
    let jobId: string;
    try {
      jobId = await context.importJobs(inputs.connection).create({
        ...targetOf(inputs),
        collectionName: inputs.collectionName!,
        partitionName: inputs.partitionName,
        dbName: inputs.dbName,
        ...(inputs.objectUrls
          ? { objectUrls: inputs.objectUrls, accessKey: inputs.accessKey, secretKey: inputs.secretKey }
          : { volumeName: inputs.volumeName, stageName: inputs.volumeName ? undefined : inputs.stageName, dataPaths: inputs.dataPaths! }),
      });
    } catch (err) {
      if (mayHaveStarted(err)) jobId = await afterLostAnswer(err as Error, inputs, attemptedAt, resourceId ?? LOST_ANSWER_ID);
      else throw err instanceof ZillizApiError ? refusedCreate(err, inputs) : err;
    }
    try {
      const outs = inputs.waitForCompletion === false ? await look(jobId, inputs) : await follow(jobId, inputs);
      return { id: resourceId ?? jobId, outs };
    } catch (err) {
      // The job runs whatever went wrong while watching it (progress calls
      // failing, a stop): its id must reach the state all the same.
      if (err instanceof Error && !("id" in err)) {
        throw partialFailure(err, resourceId ?? jobId, outputsFor(inputs, { jobId }), inputs);
      }
      throw err;
    }
  }

  /**
   * An update of a resource whose create lost its answer: follow the job that
   * create started if it can be told, start one if there is surely none, and
   * otherwise fail again without starting anything.
   */
  async function resolveUnknown(id: string, olds: ImportJobOutputs, news: ImportJobInputs): Promise<ImportJobOutputs> {
    const label = labelOf(news);
    const attemptedAt = Date.parse(olds.attemptedAt ?? "");
    // Without the attempt's time (a hand-edited state), every job of the collection counts.
    const search = await searchLostJob(news, Number.isNaN(attemptedAt) ? 0 : attemptedAt);
    if ("found" in search) {
      log(`${label}: found job ${search.found}, started by the create whose answer was lost; following it, no second job`);
      return news.waitForCompletion === false ? look(search.found, news) : follow(search.found, news);
    }
    if ("none" in search) {
      log(`${label}: no job of the earlier create whose answer was lost (looked at ${search.looked} jobs of ${news.collectionName}); starting one`);
      return (await start(news, id)).outs;
    }
    throw partialFailure(lostAnswerError(labelOf(news), undefined, news, search), id, { ...withSettings(olds, news), state: UNKNOWN_STATE, attemptedAt: olds.attemptedAt }, news);
  }

  /** One look at the job, for a resource that does not wait. */
  async function look(jobId: string, inputs: ImportJobInputs): Promise<ImportJobOutputs> {
    const report = await context.importJobs(inputs.connection).progress(targetOf(inputs), jobId);
    log(`${labelOf(inputs)}: job ${jobId} started, ${formatProgress(report)} (not waiting: waitForCompletion is false)`);
    return outputsFor(inputs, { jobId, report });
  }

  return {
    async configure(req) {
      context.configure(req);
    },

    async check(_olds, news) {
      const packed = packedFailures(news);
      // Checked as a list of lists; kept as sent, so packed paths stay packed in the state.
      const given = packed.length === 0 ? withDataPaths(news) : news;
      const failures = [
        ...packed,
        // objectUrl (pymilvus's older single form) gets its own refusal, with the form to write, from sourceFailures.
        ...unknownInputFailures("ImportJob", importJobInputsSchema, news, [...IMPORT_JOB_OUTPUT_KEYS, "objectUrl"]),
        ...checkProperties(importJobInputsSchema, given),
        ...crossFieldFailures(given),
      ];
      return { inputs: news, failures: onePerProperty(failures) };
    },

    async diff(_id, olds: ImportJobOutputs, sent: ImportJobInputs) {
      const news = withDataPaths(sent);
      const label = labelOf({ ...olds, ...news });
      // Taken over with `pulumi import`: compared by the job's files, not by a hash of a grouping the report does
      // not give. A Failed job imported nothing, so the rule below (a new job) holds for it as for any other.
      const imported = olds.jobFiles !== undefined && olds.state !== "Failed";
      let replaces: string[];
      if (imported) {
        const verdict = importedDiff({ ...olds, jobFiles: olds.jobFiles! }, news, label);
        if (verdict.message) log(verdict.message);
        replaces = verdict.replaces;
      } else {
        replaces = IMPORT_DEFINING_INPUTS.filter((k) => isUnknown(news[k]) || (olds[k] ?? "") !== (news[k] ?? ""));
        if (isUnknown(news.dataPaths) || olds.dataPathsHash !== dataPathsHash(news.dataPaths)) replaces.push("dataPaths");
        if (isUnknown(news.objectUrls) || (olds.objectUrlsHash ?? "") !== (news.objectUrls ? dataPathsHash(news.objectUrls) : "")) replaces.push("objectUrls");
      }
      // A Failed job imported nothing (an import is committed only when it completes): the next up starts a new one.
      if (replaces.length === 0 && olds.state === "Failed") {
        log(`${label}: the recorded job ${olds.jobId} Failed (${olds.reason || "no reason given"}); this update starts a new job`);
        replaces.push("jobId");
      }
      const follows = replaces.length === 0 && isRunning(olds.state) && news.waitForCompletion !== false;
      if (follows) log(`${label}: the recorded job ${olds.jobId} is still ${olds.state}; this update follows it (no second job)`);
      const looks = replaces.length === 0 && olds.state === UNKNOWN_STATE;
      if (looks) log(`${label}: an earlier create lost its answer; this update looks for the job it may have started before it starts one`);
      // An imported job's waiting settings are the defaults read put there, not the user's: the program's are taken.
      const settingsChanged =
        (!imported &&
          ((olds.waitForCompletion ?? true) !== (news.waitForCompletion ?? true) ||
            (olds.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) !== (news.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) ||
            (olds.allowEmpty ?? false) !== (news.allowEmpty ?? false))) ||
        isUnknown(news.connection) ||
        connectionChanged(olds.connection, news.connection) ||
        // New keys for the same objects: recorded by an update, no new job (the rows would be the same).
        isUnknown(news.accessKey) ||
        isUnknown(news.secretKey) ||
        !sameKeys(olds.credentialsDigest, news.accessKey, news.secretKey);
      return { changes: replaces.length > 0 || follows || looks || settingsChanged, replaces, deleteBeforeReplace: false };
    },

    async create(sent: ImportJobInputs) {
      const inputs = withDataPaths(sent);
      const { field, batches } = importedList(inputs);
      if (batches.length === 0) {
        // allowEmpty (check refused it otherwise): nothing new to import, no job.
        log(`${labelOf(inputs)}: ${field} is empty; no job started (allowEmpty)`);
        return { id: NO_JOB_ID, outs: outputsFor(inputs, { jobId: "", state: SKIPPED }) };
      }
      return start(inputs);
    },

    async update(id, olds: ImportJobOutputs, sent: ImportJobInputs) {
      const news = withDataPaths(sent);
      if (olds.state === UNKNOWN_STATE) return { outs: await resolveUnknown(id, olds, news) };
      if (!isRunning(olds.state) || !olds.jobId) return { outs: withSettings(olds, news) };
      if (news.waitForCompletion === false) return { outs: await look(olds.jobId, news) };
      return { outs: await follow(olds.jobId, news) };
    },

    async read(id, props?: ImportJobOutputs) {
      if (!props?.jobId) return { id, props: props ?? {} };
      try {
        const report = await context.importJobs(props.connection).progress(targetOf(props), props.jobId);
        return { id, props: withReport(props, report) };
      } catch (err) {
        // The service forgets old jobs. Dropping the resource would make the
        // next up import the same rows again, so it keeps what it recorded.
        if (!isNotFound(err)) throw err;
        log(`${labelOf(props)}: the service no longer knows job ${props.jobId}; keeping its last recorded state (${props.state})`);
        return { id, props };
      }
    },

    async delete(_id, props: ImportJobOutputs) {
      // Rows cannot be un-imported, and the API has no call to stop a job: nothing to do remotely.
      if (props.state === UNKNOWN_STATE) {
        log(`${labelOf(props)}: a create whose answer was lost may have started a job that is still running; deleting the resource does not stop it`);
      } else if (isRunning(props.state)) {
        log(`${labelOf(props)}: job ${props.jobId} may still be running on the service; deleting the resource does not stop it`);
      }
    },
  };
}
