// The emulator over HTTPS: a CA made at start, trusted explicitly (https
// module, AWS's S3 client), through NODE_EXTRA_CA_CERTS (our client, in a
// child process, as a user would), by strict verifiers, and from the CLI.
import { execFile, spawn, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { promises as fs } from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import * as tls from "node:tls";
import { promisify } from "node:util";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { startEmulator, Emulator } from "../../provider/emulator";
import { waitForLine } from "../helpers/child";
import { EMULATOR_CLI } from "../helpers/emulator-cli";
import { mkTmp, rmTmp } from "../helpers/fs";

const run = promisify(execFile);
const has = (cmd: string) => spawnSync(cmd, ["--version"], { stdio: "ignore" }).error === undefined;

/** One JSON call over HTTPS, trusting `ca` (or the default store when it is undefined). */
function httpsJson(url: string, apiKey: string, ca: string | undefined, method = "GET", body?: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve(JSON.parse(text)));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function peerCertificate(port: number, ca: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca, servername: undefined }, () => {
      const cert = socket.getPeerX509Certificate()!;
      socket.end();
      resolve(cert);
    });
    socket.on("error", reject);
  });
}

describe("emulator with tls", () => {
  let dataDir: string;
  let emu: Emulator;
  let port: number;

  beforeAll(async () => {
    dataDir = await mkTmp();
    emu = await startEmulator({ tls: true, dataDir });
    port = Number(new URL(emu.url).port);
  });
  afterAll(async () => {
    await emu.stop();
    await rmTmp(dataDir);
  });

  test("serves https with a leaf for 127.0.0.1/localhost signed by the CA it wrote to <data-dir>/ca.pem", async () => {
    expect(emu.url).toBe(`https://127.0.0.1:${port}`);
    expect(emu.caPath).toBe(path.join(dataDir, "ca.pem"));
    expect(await fs.readFile(emu.caPath!, "utf8")).toBe(emu.caPem);
    const ca = new X509Certificate(emu.caPem!);
    expect(ca.ca).toBe(true);
    const leaf = await peerCertificate(port, emu.caPem!);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(leaf.checkHost("localhost")).toBe("localhost");
  });

  test("a client that does not trust the CA is refused at the handshake", async () => {
    const err = await httpsJson(`${emu.url}/v2/stages?projectId=p`, emu.apiKey, undefined).catch((e) => e);
    expect(err.code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
  });

  test("REST over https; apply gives the object endpoint without a scheme, as the service does", async () => {
    const created = await httpsJson(`${emu.url}/v2/volumes/create`, emu.apiKey, emu.caPem, "POST", { projectId: "p", regionId: "aws-us-west-2", volumeName: "secure" });
    expect(created).toEqual({ code: 0, message: "success", data: { volumeName: "secure" } });
    const applied = await httpsJson(`${emu.url}/v2/volumes/apply`, emu.apiKey, emu.caPem, "POST", { volumeName: "secure", path: "" });
    expect(applied.data.endpoint).toBe(`127.0.0.1:${port}`);
    expect(emu.objectEndpoint).toBe(`127.0.0.1:${port}`);

    // An S3 client given https:// + that endpoint and the CA puts and reads back.
    const t = applied.data;
    const s3 = new S3Client({
      endpoint: `https://${t.endpoint}`,
      region: t.region,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: t.credentials.tmpAK, secretAccessKey: t.credentials.tmpSK, sessionToken: t.credentials.sessionToken },
      requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: emu.caPem }) }),
    });
    const key = `${t.volumePrefix}over-tls.txt`;
    await s3.send(new PutObjectCommand({ Bucket: t.bucketName, Key: key, Body: "encrypted in transit" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: t.bucketName, Key: key, Range: "bytes=10-" }));
    expect(await got.Body!.transformToString()).toBe("in transit");
    s3.destroy();
  });

  test("our client trusts it through NODE_EXTRA_CA_CERTS, with no option of its own", async () => {
    const client = path.join(__dirname, "../../dist/provider/client/index.js");
    const script = `
      const { StageClient } = require(${JSON.stringify(client)});
      (async () => {
        const c = new StageClient({ endpoint: process.env.EMU_URL, apiKey: process.env.EMU_KEY, retry: { maxAttempts: 1 } });
        await c.createStage({ projectId: "p", regionId: "aws-us-west-2", stageName: "trusted" });
        const t = await c.applyUploadTarget({ stageName: "trusted", path: "" });
        await c.close();
        process.stdout.write(JSON.stringify({ endpoint: t.endpoint, prefix: t.stagePrefix }));
      })().catch((e) => { process.stderr.write(String(e)); process.exit(1); });`;
    const env = { ...process.env, EMU_URL: emu.url, EMU_KEY: emu.apiKey, NODE_EXTRA_CA_CERTS: emu.caPath! };
    const { stdout } = await run(process.execPath, ["-e", script], { env });
    expect(JSON.parse(stdout)).toEqual({ endpoint: `127.0.0.1:${port}`, prefix: "stages/p/trusted/" });
    // Without the variable the same call fails on the certificate.
    const { NODE_EXTRA_CA_CERTS: _unused, ...plain } = env;
    const err = await run(process.execPath, ["-e", script], { env: plain }).catch((e) => e);
    expect(err.stderr).toMatch(/certificate|self.signed|issuer/i);
  });

  (has("openssl") ? test : test.skip)("openssl's strict verifier accepts the chain (what Python 3.13 and newer OpenSSL checks demand)", async () => {
    const leafFile = path.join(dataDir, "leaf.pem");
    await fs.writeFile(leafFile, (await peerCertificate(port, emu.caPem!)).toString());
    const { stdout } = await run("openssl", ["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", emu.caPath!, leafFile]);
    expect(stdout).toMatch(/: OK/);
  });

  (has("python3") ? test : test.skip)("Python's ssl, as urllib3 and minio-py use it, completes a strict handshake trusting ca.pem", async () => {
    const py = `
import json, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[1])
ctx.verify_flags |= getattr(ssl, "VERIFY_X509_STRICT", 0)
req = urllib.request.Request(sys.argv[2] + "/v2/volumes?projectId=p", headers={"Authorization": "Bearer " + sys.argv[3]})
print(json.load(urllib.request.urlopen(req, context=ctx))["code"])`;
    const { stdout } = await run("python3", ["-c", py, emu.caPath!, emu.url, emu.apiKey]);
    expect(stdout.trim()).toBe("0");
  });
});

test("without tls the apply endpoint keeps http:// so clients know", async () => {
  const emu = await startEmulator();
  expect(emu.objectEndpoint).toBe(emu.url);
  expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(emu.caPem).toBeUndefined();
  await emu.stop();
});

test("the CLI with --tls prints the https line and the CA, and serves with it", async () => {
  const dataDir = await mkTmp();
  const child = spawn(process.execPath, [EMULATOR_CLI, "--port", "0", "--data-dir", dataDir, "--api-key", "cli-key", "--tls", "--errors", "http"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const [, url, caPath, pem] = await waitForLine(
      child,
      /^listening on (https:\/\/127\.0\.0\.1:\d+)\nCA certificate: (\S+) .*\n(-----BEGIN CERTIFICATE-----[^]*-----END CERTIFICATE-----\n)/m,
    );
    const printed = { url, caPath, pem };
    expect(printed.caPath).toBe(path.join(dataDir, "ca.pem"));
    expect(await fs.readFile(printed.caPath, "utf8")).toBe(printed.pem);
    const listed = await httpsJson(`${printed.url}/v2/stages?projectId=p`, "cli-key", printed.pem);
    expect(listed).toMatchObject({ code: 0, message: "success" });
    // --errors http: a refusal comes back with its HTTP status.
    const refused = await new Promise<number>((resolve, reject) => {
      https.get(`${printed.url}/v2/volumes/ghost`, { ca: printed.pem, headers: { Authorization: "Bearer cli-key" } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).on("error", reject);
    });
    expect(refused).toBe(404);
  } finally {
    const exited = new Promise((r) => child.on("exit", r));
    child.kill("SIGTERM");
    await exited;
    await rmTmp(dataDir);
  }
});
