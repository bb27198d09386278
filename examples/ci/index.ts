// One stage per branch. .github/workflows/zilliz-stages.yml runs it with
// pulumi/actions: preview on pull requests, up when they merge, destroy when
// the branch is deleted; by hand that is
//   pulumi stack select --create "ci-$BRANCH"
//   pulumi config set branch "$BRANCH"
//   pulumi up --yes          # uploads only what changed since the last run
//   pulumi destroy --yes     # when the branch is deleted
// with ZILLIZCLOUD_API_KEY (and ZILLIZCLOUD_ENDPOINT) in the job's environment.
import * as pulumi from "@pulumi/pulumi";
import { Stage, StagedFiles } from "pulumi-zilliz-stages";

const config = new pulumi.Config();
const branch = config.require("branch");

// Stage names allow letters, digits, "_" and "-", at most 64 characters.
const stageName = ("ci_" + branch.replace(/[^A-Za-z0-9_-]/g, "_")).slice(0, 64);

const stage = new Stage("branch-stage", {
  projectId: config.require("projectId"),
  regionId: config.get("regionId") || "aws-us-west-2",
  stageName,
});

const files = new StagedFiles("branch-files", {
  stageName: stage.stageName,
  source: config.get("source") || "./data",
  path: "batches/",
  exclude: ["**/*.tmp"],
});

export const stage_name = stage.stageName;
export const dataPaths = files.dataPaths;
