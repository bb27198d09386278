import * as pulumi from "@pulumi/pulumi";
import { Stage, StagedFiles } from "pulumi-zilliz-stages";

// Two stages and 48 StagedFiles, half into each stage at their own paths:
// the engine creates the independent ones in parallel in one provider process.
const config = new pulumi.Config();
const source = config.require("source");
const parts = config.requireNumber("parts");

const stages = ["many_a", "many_b"].map(
  (stageName) => new Stage(stageName, { projectId: "proj-many", regionId: "aws-us-west-2", stageName }),
);
const files = Array.from(
  { length: parts },
  (_, i) =>
    new StagedFiles(`part-${i}`, {
      stageName: stages[i % 2].stageName,
      source: `${source}/part-${i}`,
      path: `part-${i}/`,
    }),
);

export const fileCounts = files.map((f) => f.fileCount);
