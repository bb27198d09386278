// A gate for the S3 proxy that checks SigV4 as a real store does, with one
// key pair: gofakes3 checks no signature, so without it a test could not
// tell whether the emulator signed with the keys the import was given.
import type { IncomingMessage } from "node:http";
import { checkSignature, parseAuthorization } from "../../provider/emulator/sigv4";

export function sigV4Gate(accessKey: string, secretKey: string): (req: IncomingMessage) => Promise<{ status: number; code: string } | undefined> {
  return async (req) => {
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth) return { status: 403, code: "AccessDenied" };
    if (auth.accessKeyId !== accessKey) return { status: 403, code: "InvalidAccessKeyId" };
    const check = await checkSignature(req, auth, secretKey, undefined);
    return check.matches ? undefined : { status: 403, code: "SignatureDoesNotMatch" };
  };
}
