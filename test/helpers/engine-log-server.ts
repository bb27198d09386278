/**
 * A stand-in for the engine's log service: records every message a plugin
 * sends (`host.log`) with the URN it is attached to.
 */
import { createRequire } from "node:module";

const sdkRequire = createRequire(require.resolve("@pulumi/pulumi"));
const grpc = sdkRequire("@grpc/grpc-js");
const engineGrpc = sdkRequire("./proto/engine_grpc_pb");
const { Empty } = sdkRequire("google-protobuf/google/protobuf/empty_pb");

export interface LoggedMessage {
  message: string;
  urn: string;
  severity: number;
}

export class EngineLogServer {
  private constructor(
    private readonly server: any,
    readonly address: string,
    readonly messages: LoggedMessage[],
  ) {}

  static async start(): Promise<EngineLogServer> {
    const server = new grpc.Server();
    const messages: LoggedMessage[] = [];
    server.addService(engineGrpc.EngineService, {
      log: (call: any, callback: any) => {
        messages.push({ message: call.request.getMessage(), urn: call.request.getUrn(), severity: call.request.getSeverity() });
        callback(null, new Empty());
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err: Error | null, p: number) => (err ? reject(err) : resolve(p))),
    );
    return new EngineLogServer(server, `127.0.0.1:${port}`, messages);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
