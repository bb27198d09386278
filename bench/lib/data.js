// Deterministic, incompressible test data: an AES-256-CTR keystream from a
// fixed key, a different IV per file. Same bytes on every run and machine.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const KEY = Buffer.alloc(32, 7);

function bytes(seed, size) {
  const iv = crypto.createHash("md5").update(String(seed)).digest();
  const cipher = crypto.createCipheriv("aes-256-ctr", KEY, iv);
  return cipher.update(Buffer.alloc(size));
}

/** Writes `count` files of `size` bytes under dir (100 per sub-directory). */
function generate(dir, { count, size, seed = "w" }) {
  const chunk = 64 * 1024 * 1024;
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `d${String(Math.floor(i / 100)).padStart(4, "0")}`, `f${String(i).padStart(6, "0")}.bin`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (size <= chunk) {
      fs.writeFileSync(file, bytes(`${seed}-${i}`, size));
    } else {
      const fd = fs.openSync(file, "w");
      for (let off = 0; off < size; off += chunk) fs.writeSync(fd, bytes(`${seed}-${i}-${off}`, Math.min(chunk, size - off)));
      fs.closeSync(fd);
    }
  }
}

/** Rewrites `n` files spread across the tree with new content of the same size. */
function touch(dir, { count, size, n, seed = "changed" }) {
  const changed = [];
  for (let k = 0; k < n; k++) {
    const i = Math.floor((k * count) / n);
    const file = path.join(dir, `d${String(Math.floor(i / 100)).padStart(4, "0")}`, `f${String(i).padStart(6, "0")}.bin`);
    fs.writeFileSync(file, bytes(`${seed}-${i}`, size));
    changed.push(file);
  }
  return changed;
}

function listFiles(dir) {
  const out = [];
  for (const sub of fs.readdirSync(dir).sort()) for (const f of fs.readdirSync(path.join(dir, sub)).sort()) out.push(path.join(dir, sub, f));
  return out;
}

module.exports = { generate, touch, listFiles };
