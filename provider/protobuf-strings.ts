/**
 * Strings in the Pulumi Node SDK's messages decoded, and long ones encoded,
 * by Node's native UTF-8 instead of google-protobuf's JavaScript loops.
 *
 * Every message between a Node program or provider and the engine goes
 * through google-protobuf 3.x, which encodes a string one byte at a time into
 * a JavaScript array (8 bytes of heap per byte of text) and decodes one into
 * an array of char codes. A files resource's `manifest` output is one string
 * of about 4.3 MB at 100,000 files, and it crosses that codec several times:
 * the provider encodes it in its answer, the program decodes it, turns the
 * whole answer into a debug line and encodes that line again to send it to
 * the engine's log. Measured on that answer alone (decode, debug line, log
 * encode), the peak grew by 133 MiB with google-protobuf's loops and by 25 to
 * 29 MiB with this module (issue 20; the program peaked at 393 MiB at
 * 100,000 files, 228 MiB at 1,000).
 *
 * The bytes and strings are exactly what google-protobuf makes: a string
 * field is a length and its UTF-8 bytes, as a bytes field is, so a long
 * well-formed string is written through the public `writeBytes`; a string
 * with a lone surrogate (which google-protobuf and Node encode differently)
 * and a short one go to google-protobuf's own code (as do repeated string
 * fields, which google-protobuf writes without calling writeString). A string read that is
 * not valid UTF-8 (the engine, in Go, never sends one) is read again by
 * google-protobuf's own code, in place: where a sequence is cut short at
 * the field's end, it takes the bytes after the field and goes on from
 * there. test/protobuf-strings.test.ts holds the two to the same output.
 *
 * A message's debug text (its toString, which the SDK uses for nothing but
 * debug lines) is google-protobuf's with each string of 64 Ki characters or
 * more replaced by its length: the manifest is not printed into the
 * engine's debug log on every registration of its resource.
 *
 * It changes the google-protobuf that `@pulumi/pulumi` uses, in every process
 * that loads this package: the provider processes, and the user's program,
 * which loads the resource classes. ZILLIZ_STAGES_PROTOBUF_STRINGS=js keeps
 * google-protobuf's own code everywhere.
 */
import { isUtf8 } from "node:buffer";
import * as path from "node:path";

/** The two prototypes this module changes, as google-protobuf 3.x exports them. */
export interface JspbStrings {
  // Function-typed properties, not methods: they are taken off the prototype and called with .call.
  BinaryWriter: { prototype: { writeString: (field: number, value?: string | null) => void; writeBytes: (field: number, value: Uint8Array) => void } };
  BinaryReader: new (bytes: Uint8Array) => {
    nextField: () => boolean;
    readString: () => string;
    readBytes: () => Uint8Array;
    getFieldCursor: () => number;
    getCursor: () => number;
    advance: (count: number) => void;
  };
  Message: { prototype: { toString: () => string; toArray: () => unknown[] } };
}

type Writer = JspbStrings["BinaryWriter"]["prototype"];
type Reader = InstanceType<JspbStrings["BinaryReader"]>;
type Message = JspbStrings["Message"]["prototype"];

/** Below this many UTF-16 code units, google-protobuf's loop is as cheap as a native call and a Buffer. */
const LONG = 1024;

// A registered symbol: two copies of this package in one process change the prototypes once.
const NATIVE = Symbol.for("pulumi-zilliz-stages/protobuf-strings");

/**
 * A string (or bytes) of this many units or more is elided from a message's
 * debug text: the SDK prints every answer of the engine into a debug line
 * (`RegisterResource RPC finished: … resp: …`), and at 100,000 files the
 * manifest made that line 4.3 MB, which the program built, encoded and sent
 * to the engine's log on each registration (about 20 MiB of its peak).
 */
export const DEBUG_TEXT_LIMIT = 64 * 1024;

/** google-protobuf's own writeString, readString and Message toString, once they have been replaced. */
export function originalsOf(
  jspb: JspbStrings,
): { writeString: Writer["writeString"]; readString: Reader["readString"]; toString: Message["toString"] } | undefined {
  return (jspb.BinaryWriter.prototype as { [NATIVE]?: ReturnType<typeof originalsOf> })[NATIVE];
}

/** Replaces `jspb`'s writeString, readString and Message toString (once); false when they were replaced already. */
export function useNativeStrings(jspb: JspbStrings): boolean {
  const writer = jspb.BinaryWriter.prototype;
  const reader = jspb.BinaryReader.prototype as Reader;
  if (originalsOf(jspb)) return false;
  // Looked up at each call, so that a test can watch which strings reach them.
  const message = jspb.Message.prototype;
  const originals = { writeString: writer.writeString, readString: reader.readString, toString: message.toString };
  writer.writeString = function (this: Writer, field: number, value?: string | null): void {
    if (typeof value !== "string" || value.length < LONG || !wellFormed(value)) return originals.writeString.call(this, field, value);
    this.writeBytes(field, Buffer.from(value, "utf8"));
  };
  reader.readString = function (this: Reader): string {
    const bytes = this.readBytes();
    if (isUtf8(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
    // Not UTF-8: back to the field's tag and google-protobuf's own reading from there, in this reader.
    // Its decoding of a sequence cut short at the field's end reads on past it, and this reader must
    // go on from where that leaves it: a copy of the field's bytes alone would not.
    this.advance(this.getFieldCursor() - this.getCursor());
    this.nextField();
    return originals.readString.call(this);
  };
  message.toString = function (this: Message): string {
    return debugText(this.toArray());
  };
  Object.defineProperty(writer, NATIVE, { value: originals });
  return true;
}

/**
 * What google-protobuf's toString makes of a message's array (the array's
 * own toString: elements joined by commas, nested arrays flattened, null and
 * undefined as nothing), with each string or bytes of DEBUG_TEXT_LIMIT units
 * or more replaced by its length.
 */
export function debugText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value.length < DEBUG_TEXT_LIMIT ? value : `<${value.length} characters>`;
  if (Array.isArray(value)) return value.map(debugText).join(",");
  if (value instanceof Uint8Array && value.length >= DEBUG_TEXT_LIMIT) return `<${value.length} bytes>`;
  // Numbers, booleans, short bytes: as the array's own toString makes them (no plain object is left here).
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return String(value);
}

/** No lone surrogate (String.prototype.isWellFormed, Node 20; before it, every string is left to google-protobuf). */
function wellFormed(value: string): boolean {
  const check = (value as { isWellFormed?: () => boolean }).isWellFormed;
  return typeof check === "function" && check.call(value);
}

/** The google-protobuf that the `@pulumi/pulumi` this package loads uses (it may not be the one this package would find). */
function sdkJspb(): JspbStrings | undefined {
  try {
    const sdk = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
    return require(require.resolve("google-protobuf", { paths: [sdk] })) as JspbStrings;
  } catch {
    // No SDK beside this package (the emulator alone, say): nothing to change.
    return undefined;
  }
}

if (process.env.ZILLIZ_STAGES_PROTOBUF_STRINGS !== "js") {
  const jspb = sdkJspb();
  if (jspb) useNativeStrings(jspb);
}
