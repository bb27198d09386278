/**
 * `read` from the id alone: what `pulumi import` and the `import` resource
 * option give the provider. Each resource is rebuilt from what the service
 * says, in the shape its controller records, with the inputs that would
 * create it. The ids name whatever the service cannot be asked for (the
 * describe call of a volume does not say its project; a stage's list item
 * does not say its region; an import job's report does not say which volume
 * or stage its files were in).
 */
import { isNotFound } from "../client";
import type { ImportTarget } from "../client/import-client";
import type { ImportJobProgress } from "../client/import-schemas";
import { ZillizValidationError } from "../errors";
import { importedJob, type JobSource } from "../resources/import-job-imported";
import type { ProviderContext } from "../resources/provider-context";
import { filesId, outputsFor, STAGED_FILES } from "../resources/staged-files-state";
import { VOLUME_FILES } from "../resources/volume-files-provider";
import type { PluginKind } from "./tokens";
import { emptyManifest, listRemoteDigests } from "../upload";
import { SHA256_HEX } from "../upload/manifest";

export interface ImportedResource {
  /** The id the resource has once imported (what create would have given it). */
  id: string;
  props: Record<string, unknown>;
  inputs: Record<string, unknown>;
}

/** The forms each import id takes, for messages and the README. */
export const IMPORT_IDS: Readonly<Record<PluginKind, string>> = {
  volume: "<projectId>/<volumeName>",
  stage: "<projectId>/<regionId>/<stageName>",
  volumeFiles: "<volumeName>/<path>  (path \"\" or ending in \"/\", e.g. raw/ or raw/data/)",
  stagedFiles: "<stageName>/<path>  (path \"\" or ending in \"/\")",
  importJob:
    "<clusterId>/volume:<volumeName>/<jobId>  (or stage:<stageName> for a stage; <projectId>/<regionId> in place of <clusterId> for a project database)",
  mergeJob: "(none: a merge job cannot be imported)",
};

const TYPE_NAMES: Readonly<Record<PluginKind, string>> = {
  volume: "Volume",
  stage: "Stage",
  volumeFiles: "VolumeFiles",
  stagedFiles: "StagedFiles",
  importJob: "ImportJob",
  mergeJob: "MergeJob",
};

function badId(kind: PluginKind, id: string, why: string): ZillizValidationError {
  return new ZillizValidationError(
    "id",
    `cannot import ${TYPE_NAMES[kind]} "${id}": ${why}. Give the id as ${IMPORT_IDS[kind]}, e.g. ` +
      `pulumi import zillizcloud:index:${TYPE_NAMES[kind]} <name> ${IMPORT_IDS[kind].split(" ")[0]}`,
  );
}

/** Undefined when the service has no such resource (the engine then says it does not exist). */
export async function readForImport(kind: PluginKind, id: string, context: ProviderContext, log: (line: string) => void): Promise<ImportedResource | undefined> {
  const parts = id.split("/");
  switch (kind) {
    case "volume": {
      if (parts.length !== 2 || !parts[0] || !parts[1]) throw badId(kind, id, "the volume API does not say which project a volume is in, so the id must");
      const [projectId, volumeName] = parts;
      const client = context.client();
      let listed = false;
      for await (const v of client.volumes({ projectId })) if (v.volumeName === volumeName) listed = true;
      if (!listed) return undefined;
      const found = await client.describeVolume(volumeName);
      if (!found) return undefined;
      const settings: Record<string, unknown> = { projectId, regionId: found.regionId ?? "", volumeName, type: found.type ?? "MANAGED" };
      if (found.storageIntegrationId) settings.storageIntegrationId = found.storageIntegrationId;
      if (found.path) settings.path = found.path;
      return { id: volumeName, props: { ...settings, status: found.status ?? "", createTime: found.createTime ?? "" }, inputs: settings };
    }
    case "stage": {
      if (parts.length !== 3 || parts.some((p) => !p)) throw badId(kind, id, "a stage is found in its project's list, which does not show its region, so the id names both");
      const [projectId, regionId, stageName] = parts;
      if (!(await context.client().findStage(projectId, stageName))) return undefined;
      const settings = { projectId, regionId, stageName };
      return { id: stageName, props: settings, inputs: settings };
    }
    case "volumeFiles":
    case "stagedFiles": {
      const slash = id.indexOf("/");
      if (slash <= 0) throw badId(kind, id, "the id names the container and the directory in it");
      const name = id.slice(0, slash);
      const path = id.slice(slash + 1);
      if (path !== "" && !path.endsWith("/")) throw badId(kind, id, `the directory "${path}" must be "" or end in "/"`);
      const dialect = kind === "volumeFiles" ? VOLUME_FILES : STAGED_FILES;
      const client = context.client();
      await dialect.checkContainer?.(client, name);
      const where = dialect.nameField === "volumeName" ? { volumeName: name, path } : { stageName: name, path };
      const remote = await listRemoteDigests(client, where);
      const manifest = emptyManifest();
      const unknown: string[] = [];
      for (const [rel, o] of [...remote].sort(([a], [b]) => a.localeCompare(b))) {
        // Only objects that carry the digest this package records can be vouched for; the rest are left alone.
        if (o.sha256 && SHA256_HEX.test(o.sha256)) manifest[rel] = { size: o.size, sha256: o.sha256, mtimeMs: 0 };
        else unknown.push(rel);
      }
      if (unknown.length > 0) {
        log(
          `${dialect.resource} ${id}: ${unknown.length} object(s) carry no SHA-256 recorded by this package and are not taken over ` +
            `(never deleted by this resource; an up uploads over them when the source has the same path): ${unknown.slice(0, 10).join(", ")}${unknown.length > 10 ? ", ..." : ""}`,
        );
      }
      const settings = { [dialect.nameField]: name, path };
      const props = outputsFor(dialect, { ...settings, path, source: "", deleteRemoved: true }, manifest, []);
      // No source: where the files came from is not in the service; the program (or the user, after `pulumi import`) gives it.
      delete (props as Partial<typeof props>).source;
      return { id: filesId(name, path), props: props as unknown as Record<string, unknown>, inputs: settings };
    }
    case "importJob": {
      // The job report names the collection and the files, not the volume or stage they were in: the id says it,
      // with its kind spelt out rather than looked up (a stage is listed only per project, which the id does not name;
      // the volume or stage may be gone since the job ran, while its rows are not; and a lookup finding both would guess).
      const source = /^(volume|stage):(.+)$/.exec(parts.at(-2) ?? "");
      if ((parts.length !== 3 && parts.length !== 4) || parts.some((p) => !p)) {
        throw badId(kind, id, "the job report does not say where its files were, so the id names the deployment, the volume or stage, and the job");
      }
      if (!source) throw badId(kind, id, `"${parts.at(-2)}" does not say whether the files were in a volume or a stage: write volume:<name> or stage:<name>`);
      const target: ImportTarget = parts.length === 3 ? { clusterId: parts[0] } : { projectId: parts[0], regionId: parts[1] };
      const jobId = parts.at(-1)!;
      let report: ImportJobProgress;
      try {
        report = await context.importJobs().progress(target, jobId);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      if (report.details.length === 0) {
        // Nothing to compare the program with: a resource without its files could only guess, and a guess may import the rows again.
        throw new ZillizValidationError(
          "id",
          `cannot import ImportJob "${id}": job ${jobId} is ${report.state} and its report names no files yet` +
            (report.state === "Failed"
              ? ` (it failed before reading them: ${report.reason || "no reason given"}; it imported nothing, so declare a new ImportJob instead)`
              : " (it has not read them): import it again once it is Importing"),
        );
      }
      const { inputs, outputs } = importedJob(target, { kind: source[1] as JobSource["kind"], name: source[2] }, report);
      log(
        `ImportJob ${report.collectionName} <- ${source[1]} ${source[2]}: imported job ${jobId} (${report.state}, ${outputs.jobFiles!.length} file(s)). ` +
          "The report does not say its dbName, partitionName or trigger: the program's are taken as the job's, and its dataPaths must name exactly these files.",
      );
      return { id: jobId, props: outputs as unknown as Record<string, unknown>, inputs };
    }
    case "mergeJob":
      throw new ZillizValidationError(
        "id",
        `cannot import MergeJob "${id}": the service's job report does not say which collection, field and file the merge used, and a ` +
          "resource that guessed would start the merge again on the next up. The collection it created is there whatever the program says.",
      );
  }
}
