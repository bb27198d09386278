import { stageInputsSchema, stagedFilesInputsSchema, checkProperties, UNKNOWN } from "../../provider/resources/inputs";
import { resolveConnection } from "../../provider/resources/connection";
import { ZillizValidationError } from "../../provider/errors";

describe("check failures name the property and the rule", () => {
  test("a valid stage has no failures", () => {
    expect(checkProperties(stageInputsSchema, { projectId: "proj-1", regionId: "aws-us-west-2", stageName: "raw_vectors" })).toEqual([]);
  });

  test.each([
    ["", "must not be empty"],
    ["has space", "letters, digits"],
    ["a/b", "letters, digits"],
    ["données", "letters, digits"],
    ["x".repeat(65), "at most 64"],
  ])("stage name %j", (stageName, rule) => {
    const failures = checkProperties(stageInputsSchema, { projectId: "p", regionId: "r", stageName });
    expect(failures).toHaveLength(1);
    expect(failures[0].property).toBe("stageName");
    expect(failures[0].reason).toContain(rule);
  });

  test("missing inputs are reported one by one", () => {
    const failures = checkProperties(stageInputsSchema, { stageName: "ok" });
    expect(failures.map((f) => f.property).sort()).toEqual(["projectId", "regionId"]);
    expect(failures[0].reason).toMatch(/is required/);
  });

  test("values unknown during preview are not validated", () => {
    expect(checkProperties(stagedFilesInputsSchema, { stageName: UNKNOWN, source: "./data" })).toEqual([]);
  });

  test("nested properties carry their path", () => {
    const failures = checkProperties(stagedFilesInputsSchema, { stageName: "s", source: "d", include: ["ok", 3] });
    expect(failures).toEqual([{ property: "include.1", reason: expect.stringContaining("include.1") }]);
  });
});

describe("connection resolution", () => {
  test("resource input, then stack config, then environment", () => {
    const env = { ZILLIZCLOUD_API_KEY: "env-key", ZILLIZCLOUD_ENDPOINT: "http://127.0.0.1:1" };
    expect(resolveConnection(undefined, {}, env)).toEqual({ apiKey: "env-key", endpoint: "http://127.0.0.1:1" });
    expect(resolveConnection(undefined, { apiKey: "cfg-key" }, env).apiKey).toBe("cfg-key");
    expect(resolveConnection({ apiKey: "res-key" }, { apiKey: "cfg-key" }, env).apiKey).toBe("res-key");
    expect(resolveConnection(undefined, { apiKey: "k" }, {}).endpoint).toBe("https://api.cloud.zilliz.com");
  });

  test("a missing key is one error naming the config key and the variable", () => {
    let error: unknown;
    try {
      resolveConnection(undefined, {}, {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ZillizValidationError);
    expect((error as ZillizValidationError).field).toBe("zillizcloud:apiKey");
    expect((error as Error).message).toContain("pulumi config set --secret zillizcloud:apiKey");
    expect((error as Error).message).toContain("ZILLIZCLOUD_API_KEY");
  });
});
