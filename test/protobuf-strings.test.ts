// provider/protobuf-strings.ts: the same bytes and strings as google-protobuf's
// own code, and applied wherever the package is loaded.
import * as jspb from "google-protobuf";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { DEBUG_TEXT_LIMIT, debugText, originalsOf, useNativeStrings, type JspbStrings } from "../provider/protobuf-strings";

const lib = jspb as unknown as JspbStrings & typeof jspb;
useNativeStrings(lib);
const original = originalsOf(lib)!;

/** Deterministic text from every plane: ASCII, 2-, 3- and 4-byte UTF-8. */
function mixed(length: number, seed: number): string {
  const out: string[] = [];
  let x = seed;
  for (let units = 0; units < length; units += out[out.length - 1].length) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const kind = x % 4;
    const cp = kind === 0 ? 0x20 + (x % 0x5f) : kind === 1 ? 0x80 + (x % 0x780) : kind === 2 ? 0xe000 + (x % 0x1000) : 0x10000 + (x % 0xfffff);
    out.push(String.fromCodePoint(cp));
  }
  return out.join("");
}

const LONG_STRINGS: Record<string, string> = {
  ascii: "a".repeat(5000),
  twoByte: "é".repeat(3000),
  threeByte: "中".repeat(3000),
  astral: "😀".repeat(2000),
  mixed: mixed(20000, 7),
  nul: "\u0000x".repeat(2000),
  // Lone surrogates: google-protobuf and Node encode these differently, so they must stay with google-protobuf.
  loneHigh: "a".repeat(3000) + "\ud800" + "b".repeat(10),
  loneLow: "\udc00" + "a".repeat(3000),
  endsHigh: "a".repeat(3000) + "\ud83d",
};
const SHORT_STRINGS = ["", "a", "é", "😀", "\ud800", mixed(500, 3)];

function written(write: (w: jspb.BinaryWriter) => void): Buffer {
  const w = new jspb.BinaryWriter();
  write(w);
  return Buffer.from(w.getResultBuffer());
}

/** A message whose field 1 holds `bytes` as they are, read back as a string by `read`. */
function readBack(bytes: Uint8Array, read: (r: jspb.BinaryReader) => string): string {
  const r = new jspb.BinaryReader(written((w) => w.writeBytes(1, bytes)));
  r.nextField();
  return read(r);
}

describe("long strings through Node's UTF-8", () => {
  test.each(Object.entries(LONG_STRINGS).concat(SHORT_STRINGS.map((s, i) => [`short ${i}`, s])))("%s is written as google-protobuf writes it", (_name, s) => {
    const ours = written((w) => w.writeString(3, s));
    const theirs = written((w) => original.writeString.call(w, 3, s));
    expect(ours.equals(theirs)).toBe(true);
  });

  test.each(Object.entries(LONG_STRINGS))("%s is read as google-protobuf reads it", (_name, s) => {
    // The field's bytes as google-protobuf writes them, without the tag and length.
    const r = new jspb.BinaryReader(written((w) => original.writeString.call(w, 1, s)));
    r.nextField();
    const payload = r.readBytes();
    expect(readBack(payload, (x) => x.readString())).toBe(readBack(payload, (x) => original.readString.call(x)));
  });

  const invalid: Record<string, number[]> = {
    "a stray continuation byte": [0x61, 0x80, 0x62],
    "a sequence cut short at the end": [0x61, 0xe4, 0xb8],
    "an overlong encoding": [0xc0, 0xaf, 0x61],
    "a byte no UTF-8 has": [0xf8, 0x88, 0x80, 0x80, 0x80, 0x61],
    "an encoded surrogate": [0xed, 0xa0, 0x80, 0x61],
  };
  test.each(Object.entries(invalid))("bytes with %s are read as google-protobuf reads them", (_name, raw) => {
    const bytes = Buffer.concat([Buffer.from("x".repeat(2000)), Buffer.from(raw), Buffer.from("y".repeat(10))]);
    expect(readBack(bytes, (x) => x.readString())).toBe(readBack(bytes, (x) => original.readString.call(x)));
  });

  // google-protobuf decodes a sequence cut short at a field's end with the bytes after the field,
  // and goes on from where that left it: no encoder writes such a field, but the answer must be its.
  const fieldsOf = (bin: Uint8Array, readString: (r: jspb.BinaryReader) => string): unknown[] => {
    const r = new jspb.BinaryReader(bin);
    const out: unknown[] = [];
    try {
      while (r.nextField()) out.push([r.getFieldNumber(), r.getWireType() === jspb.BinaryConstants.WireType.DELIMITED ? readString(r) : r.readUint32()]);
    } catch (err) {
      out.push((err as Error).message);
    }
    return out;
  };
  test.each([
    ["in the middle of a message", [0x61, 0xe4], [0x10, 0x05, 0x18, 0x07]],
    ["at its end", [0x61, 0xe4], []],
    ["with four bytes to come", [0x61, 0xf0, 0x9f], [0x10, 0x05, 0x18, 0x07, 0x20, 0x09]],
  ])("a field ending inside a sequence, %s, is read as google-protobuf reads it", (_name, field, after) => {
    const bin = Buffer.concat([written((w) => w.writeBytes(1, Buffer.from(field))), Buffer.from(after)]);
    expect(fieldsOf(bin, (x) => x.readString())).toEqual(fieldsOf(bin, (x) => original.readString.call(x)));
  });

  test("a Struct whose string ends inside a sequence fails as google-protobuf fails it", () => {
    // {"k": "a\xe4", "m": null}: the string's last byte takes the next entry's bytes with it.
    const value = Buffer.from([0x1a, 0x02, 0x61, 0xe4]);
    const entry = Buffer.concat([Buffer.from([0x0a, 0x01, 0x6b, 0x12, value.length]), value]);
    const next = Buffer.from([0x0a, 0x01, 0x6d, 0x12, 0x02, 0x08, 0x00]);
    const bin = Buffer.concat([Buffer.from([0x0a, entry.length]), entry, Buffer.from([0x0a, next.length]), next]);
    expect(() => Struct.deserializeBinary(bin)).toThrow();
  });

  test("nothing is written for a missing string, as google-protobuf writes nothing", () => {
    for (const v of [undefined, null]) {
      expect(written((w) => w.writeString(3, v as unknown as string)).length).toBe(0);
    }
  });

  test("short strings and lone surrogates go to google-protobuf's code, long ones do not", () => {
    const writes = jest.spyOn(original, "writeString");
    const reads = jest.spyOn(original, "readString");
    try {
      written((w) => w.writeString(1, "a".repeat(1023)));
      written((w) => w.writeString(1, LONG_STRINGS.loneHigh));
      expect(writes).toHaveBeenCalledTimes(2);
      written((w) => w.writeString(1, "a".repeat(1024)));
      written((w) => w.writeString(1, LONG_STRINGS.mixed));
      expect(writes).toHaveBeenCalledTimes(2);
      expect(readBack(Buffer.from(LONG_STRINGS.mixed), (x) => x.readString())).toBe(LONG_STRINGS.mixed);
      expect(reads).not.toHaveBeenCalled();
      readBack(Buffer.from([0x61, 0x80]), (x) => x.readString());
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      writes.mockRestore();
      reads.mockRestore();
    }
  });

  test.each([127, 128, 129, 16383, 16384, 16385])("%i bytes that are not UTF-8 are read as google-protobuf reads them", (n) => {
    const bytes = Buffer.alloc(n, 0x61);
    bytes[n >> 1] = 0x80;
    expect(readBack(bytes, (x) => x.readString())).toBe(readBack(bytes, (x) => original.readString.call(x)));
  });

  test("a Struct of a few MB survives the round trip, its long string sent as one block of UTF-8", () => {
    const manifest = mixed(3_000_000, 11);
    const value = { manifest, fileCount: 100000, retained: ["é", "😀"] };
    const blocks = jest.spyOn(jspb.BinaryWriter.prototype, "writeBytes");
    let bin: Uint8Array;
    try {
      bin = Struct.fromJavaScript(value).serializeBinary();
      expect(blocks.mock.calls.map(([, b]) => (b as Uint8Array).length)).toEqual([Buffer.byteLength(manifest, "utf8")]);
    } finally {
      blocks.mockRestore();
    }
    expect(Struct.deserializeBinary(bin).toJavaScript()).toEqual(value);
  });
});

describe("where it applies", () => {
  const fresh = (env: string | undefined, load: string): JspbStrings => {
    let found: JspbStrings | undefined;
    const saved = process.env.ZILLIZ_STAGES_PROTOBUF_STRINGS;
    if (env === undefined) delete process.env.ZILLIZ_STAGES_PROTOBUF_STRINGS;
    else process.env.ZILLIZ_STAGES_PROTOBUF_STRINGS = env;
    try {
      jest.isolateModules(() => {
        require(load);
        found = require("google-protobuf") as JspbStrings;
      });
    } finally {
      if (saved === undefined) delete process.env.ZILLIZ_STAGES_PROTOBUF_STRINGS;
      else process.env.ZILLIZ_STAGES_PROTOBUF_STRINGS = saved;
    }
    return found!;
  };

  test.each([
    ["the program's resource classes", "../provider/resources/staged-files"],
    ["the dynamic provider's runtime", "../provider/resources/runtime"],
  ])("loading %s changes the google-protobuf @pulumi/pulumi uses", (_name, load) => {
    const jspbThere = fresh(undefined, load);
    expect(originalsOf(jspbThere)).toBeDefined();
    expect(jspbThere.BinaryWriter.prototype.writeString).not.toBe(originalsOf(jspbThere)!.writeString);
    // Once only: a second copy of the package finds it done.
    expect(useNativeStrings(jspbThere)).toBe(false);
  });

  test("ZILLIZ_STAGES_PROTOBUF_STRINGS=js keeps google-protobuf's own code", () => {
    const jspbThere = fresh("js", "../provider/resources/staged-files");
    expect(originalsOf(jspbThere)).toBeUndefined();
    // Left alone, it can still be changed, once.
    expect(useNativeStrings(jspbThere)).toBe(true);
    expect(useNativeStrings(jspbThere)).toBe(false);
  });
});

describe("a message's debug text", () => {
  const { RegisterResourceResponse } = require("@pulumi/pulumi/proto/resource_pb") as typeof import("@pulumi/pulumi/proto/resource_pb");
  const answer = (outputs: Record<string, unknown>) => {
    const resp = new RegisterResourceResponse();
    resp.setUrn("urn:pulumi:dev::p::zillizcloud:StagedFiles::files");
    resp.setId("files-id");
    resp.setObject(Struct.fromJavaScript(outputs as never));
    resp.setStable(true);
    return resp;
  };

  test("is google-protobuf's own for a message without long strings", () => {
    for (const msg of [answer({ path: "data/", fileCount: 3, empty: null, flags: [true, false], nested: { é: "😀" }, long: "x".repeat(DEBUG_TEXT_LIMIT - 1) }), new RegisterResourceResponse(), Struct.fromJavaScript({})]) {
      expect(msg.toString()).toBe(original.toString.call(msg));
      expect(String(msg)).toBe(original.toString.call(msg));
    }
  });

  test("elides each string of DEBUG_TEXT_LIMIT characters or more, and only those", () => {
    const manifest = "zm2:" + "A".repeat(4_300_000);
    const other = "b".repeat(DEBUG_TEXT_LIMIT);
    const msg = answer({ path: "data/", manifest, deeper: { list: ["short", other] } });
    const full = original.toString.call(msg);
    const text = msg.toString();
    expect(text).toBe(full.replace(manifest, `<${manifest.length} characters>`).replace(other, `<${other.length} characters>`));
    expect(text.length).toBeLessThan(1000);
  });

  test("elides long bytes by their length; nested arrays, holes and numbers as Array's toString", () => {
    const holes = [1, [2, [3, null]], undefined, "x", new Uint8Array([7, 8])];
    holes.length = 8;
    expect(debugText(holes)).toBe(holes.toString());
    expect(debugText(["a", new Uint8Array(DEBUG_TEXT_LIMIT)])).toBe(`a,<${DEBUG_TEXT_LIMIT} bytes>`);
  });
});
