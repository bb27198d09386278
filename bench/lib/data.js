// Deterministic, incompressible test data: an AES-256-CTR keystream from a
// fixed key, a different IV per file (and per 64 MiB chunk). The same bytes
// on every run and machine, nothing compresses, and no two files share
// content, so no tool can win by compression or deduplication.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const KEY = Buffer.alloc(32, 7);
const CHUNK = 64 * 1024 * 1024;
/** Files per sub-directory: trees look like real data sets, not one huge directory. */
const PER_DIR = 100;

/** `size` pseudo-random bytes determined by `seed`. */
function bytes(seed, size) {
  const iv = crypto.createHash("md5").update(String(seed)).digest();
  const cipher = crypto.createCipheriv("aes-256-ctr", KEY, iv);
  return cipher.update(Buffer.alloc(size));
}

/** The path of file number i below dir (`.json` for the json format). */
function fileAt(dir, i, format = "bin") {
  return path.join(dir, `d${String(Math.floor(i / PER_DIR)).padStart(4, "0")}`, `f${String(i).padStart(6, "0")}.${format}`);
}

/** One row of import data, exactly `size` bytes. */
function jsonRow(seed, id, size) {
  const row = Buffer.from(JSON.stringify({ rows: [{ id, text: bytes(seed, 16).toString("hex") }] }));
  if (size < row.length) throw new Error(`a JSON row file needs at least ${row.length} bytes, asked for ${size}`);
  return Buffer.concat([row, Buffer.alloc(size - row.length, " ")]);
}

/** Writes `count` files of `size` bytes under dir; returns the total bytes. */
function generate(dir, { count, size, seed = "w", format = "bin" }) {
  let lastDir;
  for (let i = 0; i < count; i++) {
    const file = fileAt(dir, i, format);
    if (path.dirname(file) !== lastDir) {
      lastDir = path.dirname(file);
      fs.mkdirSync(lastDir, { recursive: true });
    }
    if (format === "json") {
      fs.writeFileSync(file, jsonRow(`${seed}-${i}`, i, size));
    } else if (size <= CHUNK) {
      fs.writeFileSync(file, bytes(`${seed}-${i}`, size));
    } else {
      const fd = fs.openSync(file, "w");
      try {
        for (let off = 0; off < size; off += CHUNK) fs.writeSync(fd, bytes(`${seed}-${i}-${off}`, Math.min(CHUNK, size - off)));
      } finally {
        fs.closeSync(fd);
      }
    }
  }
  return count * size;
}

/**
 * Rewrites `n` files spread evenly across the tree with new content of the
 * SAME size (the hard case for a size-based comparison: only the mtime or
 * the content tells). Returns their paths.
 */
function touch(dir, { count, size, n, seed = "changed", format = "bin" }) {
  const changed = [];
  for (let k = 0; k < n; k++) {
    const i = Math.floor((k * count) / n);
    const file = fileAt(dir, i, format);
    fs.writeFileSync(file, format === "json" ? jsonRow(`${seed}-${k}`, i, size) : bytes(`${seed}-${k}`, size));
    changed.push(file);
  }
  return changed;
}

/** Every file below dir (two levels, as generate writes them), sorted. */
function listFiles(dir) {
  const out = [];
  for (const sub of fs.readdirSync(dir).sort()) for (const f of fs.readdirSync(path.join(dir, sub)).sort()) out.push(path.join(dir, sub, f));
  return out;
}

module.exports = { generate, touch, listFiles, fileAt };
