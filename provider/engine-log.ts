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

/** Sends a line to the engine, under a resource when `urn` is given. */
export interface EngineLog {
  (line: string, urn?: string): void;
  /**
   * Resolves once every line sent so far has been taken (or refused and
   * written to stderr), or after `timeoutMs`: a call waits for it before it
   * answers, so its lines come before its result and are not lost when the
   * engine stops the process right after.
   */
  flush(timeoutMs?: number): Promise<void>;
}

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
  const pending = new Set<Promise<void>>();
  const log = (line: string, urn?: string) => {
    const req = new LogRequest();
    req.setSeverity(LogSeverity.INFO);
    req.setMessage(line);
    if (urn) req.setUrn(urn);
    const sent = new Promise<void>((resolve) =>
      client.log(req, (err: Error | null) => {
        if (err) console.error(line);
        resolve();
      }),
    );
    pending.add(sent);
    void sent.then(() => pending.delete(sent));
  };
  log.flush = async (timeoutMs = 2000) => {
    if (pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all([...pending]), late]);
    clearTimeout(timer);
  };
  return log;
}
