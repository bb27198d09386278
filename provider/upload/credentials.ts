/**
 * Temporary storage credentials for one run: the current apply answer,
 * renewed before it expires and at once when the store refuses its token.
 */
import type { StorageRef } from "../client/dialect";
import type { StageUploadTarget } from "../client/schemas";

/** Anything that can answer an apply call for a stage or a volume; `ZillizClient` is one. */
export interface UploadTargetSource {
  applyUploadTarget(req: StorageRef): Promise<StageUploadTarget>;
}

/** The SDKs apply again this long before the credentials expire. */
const RENEW_BEFORE_EXPIRY_MS = 300_000;

/**
 * The current apply answer, renewed `refreshMarginMs` before `expireTime`
 * (default: 300 s as the SDKs do, or a quarter of the lifetime when that is
 * shorter, so short-lived credentials are still used) and on
 * demand after the store said the token expired. Concurrent callers share
 * one apply call, so a burst of expired requests costs a single renewal.
 */
export class UploadTargetCache {
  private current?: { target: StageUploadTarget; refreshAt: number };
  private inflight?: Promise<StageUploadTarget>;
  /** Every secret handed out in this run, so error messages can be scrubbed of them. */
  private readonly secrets = new Set<string>();
  /** How many apply calls this run made. */
  applies = 0;

  constructor(
    private readonly source: UploadTargetSource,
    private readonly request: StorageRef,
    private readonly refreshMarginMs?: number,
  ) {}

  /** The current answer; applies again when there is none or it is about to expire. */
  async get(): Promise<StageUploadTarget> {
    if (this.current && Date.now() < this.current.refreshAt) return this.current.target;
    return this.renew();
  }

  /**
   * The store refused `target`'s token: forget it, so the next `get` applies
   * again. A target that was already replaced is left alone, so that many
   * requests failing with the same old token renew only once.
   */
  invalidate(target: StageUploadTarget): void {
    if (this.current?.target === target) this.current = undefined;
  }

  /** `text` with every access key, secret key and session token of this run replaced. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join("[redacted]");
    return out;
  }

  private renew(): Promise<StageUploadTarget> {
    this.inflight ??= this.source
      .applyUploadTarget(this.request)
      .then((target) => {
        this.applies++;
        const { tmpAK, tmpSK, sessionToken } = target.credentials;
        for (const s of [tmpAK, tmpSK, sessionToken]) if (s) this.secrets.add(s);
        const now = Date.now();
        const expires = Date.parse(target.credentials.expireTime);
        const margin = this.refreshMarginMs ?? Math.min(RENEW_BEFORE_EXPIRY_MS, Math.max(0, (expires - now) / 4));
        // Credentials that look expired on arrival (a skewed clock, a tiny
        // lifetime) are still tried for a second rather than applying again
        // on every request; the store's refusal renews them at once anyway.
        const refreshAt = expires - margin > now ? expires - margin : now + 1000;
        this.current = { target, refreshAt };
        return target;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}
