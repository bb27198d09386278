/**
 * Node's on-disk cache of compiled modules (Node 22.1 and later; a no-op
 * before), turned on by the provider processes' entry points only, never in
 * a user's program. The engine starts a fresh provider process for every
 * command, and compiling the AWS SDK, @pulumi/pulumi and this package cost
 * each of them about 0.3 s of CPU (V8 profile, issue 20). Node keeps the
 * cache in a directory of its own under the temp dir and checks every entry
 * against its source; NODE_DISABLE_COMPILE_CACHE=1 turns it off and
 * NODE_COMPILE_CACHE moves it.
 */
import * as nodeModule from "node:module";

(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
