/**
 * What the emulator records of each request it answered, for tests and
 * benchmarks to assert on (which calls, in which order, how many at once).
 */
import type { RequestKind } from "./faults";

export interface RequestRecord {
  kind: RequestKind;
  method: string;
  path: string;
  key?: string;
  status: number;
  /** The envelope `code` of a REST answer: with errors "code", a refusal is HTTP 200 and only this tells. */
  code?: number;
  /** Request body bytes, as the request declared them. */
  bytes: number;
  /** When the request arrived and when its connection was done with it (performance.now() ms): how many overlapped. */
  startedMs?: number;
  endedMs?: number;
}

/** The most requests among `records` that were open at the same moment. */
export function peakOverlap(records: ReadonlyArray<Pick<RequestRecord, "startedMs" | "endedMs">>): number {
  const edges: Array<[number, number]> = [];
  for (const r of records) {
    if (r.startedMs === undefined) continue;
    edges.push([r.startedMs, 1], [r.endedMs ?? Infinity, -1]);
  }
  // Ends before starts at the same instant: back-to-back requests do not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (open += d));
  return peak;
}
