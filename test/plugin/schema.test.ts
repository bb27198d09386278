// The package schema is generated from the zod schemas the controllers
// validate with; the committed plugin/schema.json (what SDKs are generated
// from) must be exactly that output, so a zod change without
// `node scripts/gen-schema.js` fails here.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { importJobInputsSchema } from "../../provider/resources/import-job-inputs";
import { stagedFilesInputsSchema, stageInputsSchema, volumeFilesInputsSchema, volumeInputsSchema } from "../../provider/resources/inputs";
import { packageSchema } from "../../provider/plugin/schema";

const committed = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "plugin", "schema.json"), "utf8"));
const schema = packageSchema() as any;

describe("package schema", () => {
  test("the committed plugin/schema.json is what the zod schemas generate (run `node scripts/gen-schema.js` after a build when this fails)", () => {
    expect(committed).toEqual(schema);
  });

  test.each([
    ["Volume", volumeInputsSchema],
    ["Stage", stageInputsSchema],
    ["VolumeFiles", volumeFilesInputsSchema],
    ["StagedFiles", stagedFilesInputsSchema],
    // dataPathsPacked is what the TypeScript ImportJob sends; the package's languages give dataPaths.
    ["ImportJob", importJobInputsSchema.omit({ dataPathsPacked: true })],
  ])("%s: every zod input is an input property, required exactly when zod requires it, described", (type, zodSchema) => {
    const resource = schema.resources[`zillizcloud:index:${type}`];
    expect(Object.keys(resource.inputProperties).sort()).toEqual(Object.keys(zodSchema.shape).sort());
    const required = (z.toJSONSchema(zodSchema, { io: "input" }) as { required?: string[] }).required ?? [];
    expect([...resource.requiredInputs].sort()).toEqual([...required].sort());
    for (const [name, prop] of Object.entries<any>(resource.inputProperties)) expect(`${name}: ${prop.description ?? ""}`).toMatch(/: \S/);
  });

  test("the API key is secret wherever it appears: config, each resource's connection (input and output)", () => {
    expect(schema.config.variables.apiKey.secret).toBe(true);
    expect(schema.types["zillizcloud:index:Connection"].properties.apiKey.secret).toBe(true);
    for (const resource of Object.values<any>(schema.resources)) {
      expect(resource.inputProperties.connection.secret).toBe(true);
      expect(resource.properties.connection.secret).toBe(true);
    }
  });

  test("an ImportJob's bucket keys are secret inputs, never outputs; their digest is a secret output", () => {
    const job = schema.resources["zillizcloud:index:ImportJob"];
    expect(job.inputProperties.accessKey).toMatchObject({ type: "string", secret: true });
    expect(job.inputProperties.secretKey).toMatchObject({ type: "string", secret: true });
    expect(job.properties).not.toHaveProperty("accessKey");
    expect(job.properties).not.toHaveProperty("secretKey");
    expect(job.properties.credentialsDigest).toMatchObject({ type: "string", secret: true });
    expect(job.inputProperties.objectUrls).toMatchObject({ type: "array", items: { type: "array", items: { type: "string" } } });
  });

  test("integers stay integers and enums list their values", () => {
    expect(schema.resources["zillizcloud:index:VolumeFiles"].inputProperties.concurrency.type).toBe("integer");
    expect(schema.resources["zillizcloud:index:Volume"].inputProperties.type.description).toMatch(/One of: MANAGED, EXTERNAL\./);
  });
});
