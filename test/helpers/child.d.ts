import type { ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";

type Piped = ChildProcessByStdio<Writable | null, Readable, Readable>;

export function collect(child: Piped): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
export function waitForLine(child: Piped, pattern: RegExp): Promise<RegExpExecArray>;
