/**
 * What one run against the object store shares: the credentials cache, the
 * request slots, the part buffers, the retry policy, and the SDK client (made on first use:
 * small files go through the lean putter; the SDK serves multipart, deletes,
 * listings and recovery's HEADs).
 */
import { setMaxListeners } from "node:events";
import type { S3Client } from "@aws-sdk/client-s3";
import type { RetryPolicy } from "../retry";
import type { UploadTargetCache } from "./credentials";
import { RequestLimiter, Slots } from "./limiter";
import { BodyBuffers, PartBuffers } from "./part-buffers";
import { createS3Client, s3RetryPolicy, withS3Retry } from "./s3";

export interface StoreSessionOptions {
  /** Requests in flight for this run. */
  concurrency: number;
  /** A bound shared with other runs of the process. */
  limiter?: RequestLimiter;
  /** Attempts per request, the first included. */
  maxAttempts?: number;
  /** S3 socket inactivity timeout. */
  requestTimeoutMs: number;
  /**
   * Aborted when the provider must stop (a signal, its engine gone): nothing
   * new starts, retries end, and requests given `session.signal` are cut off.
   */
  signal?: AbortSignal;
}

export class StoreSession {
  readonly slots: Slots;
  readonly policy: RetryPolicy;
  /** Multipart parts' buffers, shared by the run's large files. */
  readonly partBuffers = new PartBuffers();
  /** Small files' bodies, shared by the run's single PUTs. */
  readonly bodies = new BodyBuffers();
  /** Set once the run is failing: nothing new is started, retries end. */
  failing = false;
  private client?: S3Client;

  constructor(
    readonly targets: UploadTargetCache,
    readonly options: StoreSessionOptions,
  ) {
    this.slots = new Slots(new RequestLimiter(options.concurrency), options.limiter);
    // Every part in flight listens on the run's signal (undici removes its
    // listener when the request ends); with more than ten at once Node would
    // warn of a leak that is not one.
    if (options.signal) setMaxListeners(0, options.signal);
    this.policy = s3RetryPolicy(options.maxAttempts);
  }

  readonly stopped = (): boolean => this.failing || this.signal?.aborted === true;

  /** For requests that should end at once when the provider stops (never for clean-up). */
  get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  /** The SDK client, made on first use. */
  async s3(): Promise<S3Client> {
    const first = await this.targets.get();
    this.client ??= createS3Client(first, {
      targets: this.targets,
      maxSockets: this.options.concurrency,
      requestTimeoutMs: this.options.requestTimeoutMs,
    });
    return this.client;
  }

  async bucket(): Promise<string> {
    return (await this.targets.get()).bucketName;
  }

  /**
   * One request with retries, without taking a slot (the caller holds one).
   * `evenIfFailing` keeps retrying after the run started failing (clean-up).
   */
  retry<T>(operation: string, fn: () => Promise<T>, evenIfFailing = false): Promise<T> {
    return withS3Retry(this.targets, this.policy, fn, { operation, shouldStop: evenIfFailing ? undefined : this.stopped });
  }

  /** One request holding a slot, with retries. */
  send<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return this.slots.run(() => this.retry(operation, fn));
  }

  close(): void {
    this.client?.destroy();
  }
}
