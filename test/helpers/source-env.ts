/**
 * The environment an object source's credentials come from (the AWS default
 * chain, the GS_* HMAC key, a Google access token), set up as a user keeps it: before each test it
 * is emptied and given `keys`, with no shared config or credentials file;
 * after each test, what was there before is back.
 */
const SOURCE_ENV = ["GS_ACCESS_KEY_ID", "GS_SECRET_ACCESS_KEY", "GOOGLE_OAUTH_ACCESS_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_REGION", "AWS_DEFAULT_REGION"];

export function withSourceEnv(keys: { accessKeyId: string; secretAccessKey: string }): void {
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const k of SOURCE_ENV) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
    process.env.AWS_ACCESS_KEY_ID = keys.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = keys.secretAccessKey;
    process.env.AWS_CONFIG_FILE = "/nonexistent/zstages-aws-config";
    process.env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/zstages-aws-credentials";
  });
  afterEach(() => {
    for (const k of SOURCE_ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
}
