// The object endpoint's S3 rules as awscli meets them (botocore signs and
// parses on its own, and lists with encoding-type=url by default). Skipped
// where no `aws` is installed (apt-get install awscli), except in CI, which
// installs it: there a missing `aws` fails rather than passing unseen.
import { execFile, execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { startEmulator, Emulator } from "../../provider/emulator";
import { volumeTarget, type VolumeTarget } from "../helpers/volume-target";
import { mkTmp, rmTmp } from "../helpers/fs";

const run = promisify(execFile);
// awscli takes seconds to start, more on a busy machine.
jest.setTimeout(300_000);

function hasAws(): boolean {
  try {
    execFileSync("aws", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    if (process.env.CI) throw new Error("awscli is missing: .ci/run installs it (apt-get install awscli)");
    return false;
  }
}

(hasAws() ? describe : describe.skip)("awscli against the object endpoint", () => {
  let emu: Emulator;
  let dir: string;
  let t: VolumeTarget;
  beforeAll(async () => {
    emu = await startEmulator();
    dir = await mkTmp("zemu-awscli-");
    t = await volumeTarget(emu, "mine", { projectId: "proj-1" });
  });
  afterAll(async () => {
    await emu.stop();
    await rmTmp(dir);
  });

  /** Runs `aws s3api ...` with a volume's temporary keys; resolves with stdout, or the failure's stderr. */
  async function s3api(target: VolumeTarget, args: string[]): Promise<{ ok: boolean; out: string }> {
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: target.credentials.tmpAK,
      AWS_SECRET_ACCESS_KEY: target.credentials.tmpSK,
      AWS_SESSION_TOKEN: target.credentials.sessionToken,
      AWS_DEFAULT_REGION: target.region,
      AWS_CONFIG_FILE: path.join(dir, "none"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "none"),
      AWS_MAX_ATTEMPTS: "1",
    };
    try {
      const { stdout } = await run("aws", ["s3api", "--endpoint-url", emu.url, ...args], { env });
      return { ok: true, out: stdout };
    } catch (err) {
      return { ok: false, out: String((err as { stderr?: string }).stderr ?? err) };
    }
  }

  test("list-objects-v2 (encoding-type=url, as botocore asks) gives back keys with control characters exactly", async () => {
    const key = `${t.volumePrefix}ctl\u0001\tend & <x> %41`;
    const file = path.join(dir, "body");
    await fs.writeFile(file, "x");
    expect((await s3api(t, ["put-object", "--bucket", t.bucketName, "--key", key, "--body", file])).ok).toBe(true);
    const listed = await s3api(t, ["list-objects-v2", "--bucket", t.bucketName, "--prefix", t.volumePrefix]);
    expect(listed.ok).toBe(true);
    expect((JSON.parse(listed.out) as { Contents: { Key: string }[] }).Contents.map((c) => c.Key)).toEqual([key]);
  });

  test("abort-multipart-upload with another volume's upload id: NoSuchUpload", async () => {
    const other = await volumeTarget(emu, "theirs", { projectId: "proj-1" });
    const created = await s3api(other, ["create-multipart-upload", "--bucket", other.bucketName, "--key", `${other.volumePrefix}big`]);
    const { UploadId } = JSON.parse(created.out) as { UploadId: string };
    const refused = await s3api(t, ["abort-multipart-upload", "--bucket", t.bucketName, "--key", `${t.volumePrefix}big`, "--upload-id", UploadId]);
    expect(refused).toMatchObject({ ok: false, out: expect.stringMatching(/NoSuchUpload/) });
    expect((await s3api(other, ["abort-multipart-upload", "--bucket", other.bucketName, "--key", `${other.volumePrefix}big`, "--upload-id", UploadId])).ok).toBe(true);
  });

  test("complete-multipart-upload with a 1-byte first part: EntityTooSmall", async () => {
    const key = `${t.volumePrefix}parts`;
    const file = path.join(dir, "one-byte");
    await fs.writeFile(file, "x");
    const { UploadId } = JSON.parse((await s3api(t, ["create-multipart-upload", "--bucket", t.bucketName, "--key", key])).out) as { UploadId: string };
    const parts = [];
    for (const PartNumber of [1, 2]) {
      const up = await s3api(t, ["upload-part", "--bucket", t.bucketName, "--key", key, "--upload-id", UploadId, "--part-number", String(PartNumber), "--body", file]);
      parts.push({ ETag: (JSON.parse(up.out) as { ETag: string }).ETag, PartNumber });
    }
    const done = await s3api(t, ["complete-multipart-upload", "--bucket", t.bucketName, "--key", key, "--upload-id", UploadId, "--multipart-upload", JSON.stringify({ Parts: parts })]);
    expect(done).toMatchObject({ ok: false, out: expect.stringMatching(/EntityTooSmall/) });
  });
});
