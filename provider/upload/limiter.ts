/**
 * Bounds on requests in flight. One upload bounds its own requests; a
 * provider process that runs many resources at once (the engine calls
 * `create` for independent resources in parallel) shares one more bound
 * across all of them, so fifty StagedFiles do not open fifty times the
 * connections one would.
 */

/** Runs `fn` holding one slot of `slots`, released however `fn` ends. */
async function holding<T>(slots: { acquire(): Promise<void>; release(): void }, fn: () => Promise<T>): Promise<T> {
  await slots.acquire();
  try {
    return await fn();
  } finally {
    slots.release();
  }
}

/** A counting semaphore: at most `limit` holders at once, served in arrival order. */
export class RequestLimiter {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a request limit must be a positive integer, got ${limit}`);
    this.free = limit;
  }

  /** Holders right now. */
  get inFlight(): number {
    return this.limit - this.free;
  }

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return holding(this, fn);
  }
}

/**
 * An upload's own bound, then the shared one. Always taken in that order and
 * released together, and nothing waits for a slot while holding one, so two
 * uploads sharing a limiter cannot deadlock.
 */
export class Slots {
  constructor(
    private readonly own: RequestLimiter,
    private readonly shared?: RequestLimiter,
  ) {}

  async acquire(): Promise<void> {
    await this.own.acquire();
    if (this.shared) await this.shared.acquire();
  }

  release(): void {
    this.shared?.release();
    this.own.release();
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return holding(this, fn);
  }
}
