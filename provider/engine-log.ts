/**
 * Messages to the engine's log service, attached to a resource by URN, so the
 * CLI shows them under that resource rather than under the stack. Both doors
 * use it: the package's plugin and the SDK's dynamic-provider process. A
 * plugin's stderr is shown without a resource, and the engine reads it line
 * by line and prints each with a newline of its own, so a multi-line
 * message (the files a diff lists) came out double-spaced.
 */
import { createRequire } from "node:module";

// gRPC and the protocol's messages come from the SDK's own dependency tree,
// so they are the versions the SDK speaks.
const sdkRequire = createRequire(require.resolve("@pulumi/pulumi"));

export type EngineLog = (line: string, urn?: string) => void;

/**
 * A logger for the engine at `address` (the plugin's first argument). A
 * message the engine cannot take goes to stderr instead, never lost.
 */
export function engineLog(address: string): EngineLog {
  // Loaded here, not at the top: a process that never logs to an engine never loads gRPC for it.
  const grpc = sdkRequire("@grpc/grpc-js");
  const { EngineClient } = sdkRequire("./proto/engine_grpc_pb");
  const { LogRequest, LogSeverity } = sdkRequire("./proto/engine_pb");
  const client = new EngineClient(address, grpc.credentials.createInsecure());
  return (line, urn) => {
    const req = new LogRequest();
    req.setSeverity(LogSeverity.INFO);
    req.setMessage(line);
    if (urn) req.setUrn(urn);
    client.log(req, (err: Error | null) => {
      if (err) console.error(line);
    });
  };
}
