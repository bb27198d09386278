/**
 * Runs a serialized provider the way the engine does: spawns the SDK's
 * dynamic-provider server (`@pulumi/pulumi/cmd/dynamic-provider`), reads its
 * port from stdout and speaks the provider gRPC protocol to it.
 */
import { ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";

// gRPC and protobuf must come from the SDK's own dependency tree.
const sdkRequire = createRequire(require.resolve("@pulumi/pulumi"));
const grpc = sdkRequire("@grpc/grpc-js");
const providerGrpc = sdkRequire("./proto/provider_grpc_pb");
const pb = sdkRequire("./proto/provider_pb");
const { Struct } = sdkRequire("google-protobuf/google/protobuf/struct_pb");
const statusPb = sdkRequire("./proto/status_pb");

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

type Props = Record<string, unknown>;

/**
 * The partial failure the server packed into a failed create or update (an
 * error that carried `id` and `properties`), as the engine unpacks it: what
 * it records in the state. Undefined for a plain failure.
 */
export function initFailure(err: unknown): { id: string; properties: Props; reasons: string[] } | undefined {
  const bin = (err as { metadata?: { get(key: string): unknown[] } })?.metadata?.get("grpc-status-details-bin")?.[0];
  if (!bin) return undefined;
  for (const detail of statusPb.Status.deserializeBinary(bin).getDetailsList()) {
    if (detail.getTypeName() !== "pulumirpc.ErrorResourceInitFailed") continue;
    const failed = pb.ErrorResourceInitFailed.deserializeBinary(detail.getValue_asU8());
    return { id: failed.getId(), properties: failed.getProperties()?.toJavaScript() ?? {}, reasons: failed.getReasonsList() };
  }
  return undefined;
}

export class DynamicProviderServer {
  private constructor(
    /** The server's process, or with `asEngine` the stand-in for the engine above it. */
    readonly child: ChildProcess,
    private readonly client: any,
    readonly output: { stdout: string; stderr: string },
  ) {}

  /**
   * Starts the server with `cwd` as its working directory (where `require`
   * resolves from). `asEngine`: the way the engine starts it, through the
   * SDK's wrapper script, under a stand-in for the engine (a shell) that is
   * `child`, so a test can kill the "engine" and watch the provider.
   */
  static async start(cwd = REPO_ROOT, env: NodeJS.ProcessEnv = {}, options: { asEngine?: boolean } = {}): Promise<DynamicProviderServer> {
    const entry = sdkRequire.resolve("./cmd/dynamic-provider/index.js");
    const wrapper = sdkRequire.resolve("./pulumi-resource-pulumi-nodejs");
    const spawnEnv = { PATH: process.env.PATH, PULUMI_NODEJS_PROJECT: "test-project", PULUMI_NODEJS_STACK: "dev", ...env };
    // "; exit" keeps the shell from exec-ing the wrapper: it stays the wrapper's parent, as the engine is.
    const child = options.asEngine
      ? spawn("sh", ["-c", '"$0" 127.0.0.1:0; exit $?', wrapper], { cwd, env: spawnEnv, stdio: ["ignore", "pipe", "pipe"] })
      : spawn(process.execPath, [entry, "127.0.0.1:0"], { cwd, env: spawnEnv, stdio: ["ignore", "pipe", "pipe"] });
    return DynamicProviderServer.connect(child);
  }

  /**
   * Starts the `zillizcloud` native plugin the way the engine does: its
   * executable (node on dist/, so build first), the engine's address as the
   * argument when given, the package config in PULUMI_CONFIG.
   */
  static async startNative(env: NodeJS.ProcessEnv = {}, engineAddress?: string): Promise<DynamicProviderServer> {
    const executable = path.join(REPO_ROOT, "plugin", "pulumi-resource-zillizcloud");
    const child = spawn(executable, engineAddress ? [engineAddress] : [], {
      cwd: path.dirname(executable),
      env: { PATH: process.env.PATH, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return DynamicProviderServer.connect(child);
  }

  /** Reads the port a provider prints and connects to it. */
  private static async connect(child: ChildProcess): Promise<DynamicProviderServer> {
    const output = { stdout: "", stderr: "" };
    child.stderr!.on("data", (d) => (output.stderr += d));
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on("data", (d) => {
        output.stdout += d;
        const m = /^(\d+)\s*$/m.exec(output.stdout);
        if (m) resolve(Number(m[1]));
      });
      child.on("exit", (code) => reject(new Error(`provider exited with ${code}: ${output.stderr}`)));
    });
    const client = new providerGrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return new DynamicProviderServer(child, client, output);
  }

  private call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) =>
      this.client[method](req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))),
    );
  }

  async configure(config: Props): Promise<void> {
    const req = new pb.ConfigureRequest();
    req.setArgs(Struct.fromJavaScript(config));
    await this.call("configure", req);
  }

  async check(urn: string, olds: Props, news: Props): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }> {
    const req = new pb.CheckRequest();
    req.setUrn(urn);
    req.setOlds(Struct.fromJavaScript(olds));
    req.setNews(Struct.fromJavaScript(news));
    const res: any = await this.call("check", req);
    return {
      inputs: res.getInputs().toJavaScript(),
      failures: res.getFailuresList().map((f: any) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  async diff(urn: string, id: string, olds: Props, news: Props): Promise<{ changes: number; replaces: string[]; deleteBeforeReplace: boolean }> {
    const req = new pb.DiffRequest();
    req.setUrn(urn);
    req.setId(id);
    req.setOlds(Struct.fromJavaScript(olds));
    req.setNews(Struct.fromJavaScript(news));
    const res: any = await this.call("diff", req);
    return { changes: res.getChanges(), replaces: res.getReplacesList(), deleteBeforeReplace: res.getDeletebeforereplace() };
  }

  async create(urn: string, props: Props): Promise<{ id: string; properties: Props }> {
    const req = new pb.CreateRequest();
    req.setUrn(urn);
    req.setProperties(Struct.fromJavaScript(props));
    const res: any = await this.call("create", req);
    return { id: res.getId(), properties: res.getProperties().toJavaScript() };
  }

  async update(urn: string, id: string, olds: Props, news: Props): Promise<Props> {
    const req = new pb.UpdateRequest();
    req.setUrn(urn);
    req.setId(id);
    req.setOlds(Struct.fromJavaScript(olds));
    req.setNews(Struct.fromJavaScript(news));
    const res: any = await this.call("update", req);
    return res.getProperties().toJavaScript();
  }

  async read(urn: string, id: string, props: Props): Promise<{ id: string; properties: Props; inputs?: Props }> {
    const req = new pb.ReadRequest();
    req.setUrn(urn);
    req.setId(id);
    req.setProperties(Struct.fromJavaScript(props));
    const res: any = await this.call("read", req);
    const inputs = res.getInputs()?.toJavaScript();
    return { id: res.getId(), properties: res.getProperties()?.toJavaScript() ?? {}, ...(inputs ? { inputs } : {}) };
  }

  async delete(urn: string, id: string, props: Props): Promise<void> {
    const req = new pb.DeleteRequest();
    req.setUrn(urn);
    req.setId(id);
    req.setProperties(Struct.fromJavaScript(props));
    await this.call("delete", req);
  }

  /** A function (invoke) call: its return value and failures. */
  async invoke(token: string, args: Props): Promise<{ outputs: Props; failures: { property: string; reason: string }[] }> {
    const req = new pb.InvokeRequest();
    req.setTok(token);
    req.setArgs(Struct.fromJavaScript(args));
    const res: any = await this.call("invoke", req);
    return {
      outputs: res.getReturn()?.toJavaScript() ?? {},
      failures: res.getFailuresList().map((f: any) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  async getSchema(): Promise<string> {
    const req = new pb.GetSchemaRequest();
    const res: any = await this.call("getSchema", req);
    return res.getSchema();
  }

  async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGTERM");
      await exited;
    }
  }
}
