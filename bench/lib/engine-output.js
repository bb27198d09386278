// Reading what the Pulumi CLI leaves behind: the stack's checkpoint in a file
// backend (its size, the backups beside it, and which properties of which
// resource make it big) and the section of a `preview --diff` that belongs
// to one resource.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

/** Every file below dir with its size, recursively. */
function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push({ path: p, size: fs.statSync(p).size });
  }
  return out;
}

const jsonBytes = (v) => (v === undefined ? 0 : Buffer.byteLength(JSON.stringify(v)));

/**
 * The checkpoint of `stack` in the file backend at stateDir
 * (`.pulumi/stacks/<project>/<stack>.json`): its size, the size of the whole
 * `.pulumi` directory (backups and history are copies of it), and for every
 * resource the bytes of its inputs and outputs with the largest properties.
 */
function checkpoint(stateDir, stack) {
  const root = path.join(stateDir, ".pulumi");
  const files = walk(root);
  const stacks = files.filter((f) => f.path.startsWith(path.join(root, "stacks") + path.sep) && path.basename(f.path) === `${stack}.json`);
  if (stacks.length !== 1) throw new Error(`expected one checkpoint ${stack}.json under ${root}/stacks, found ${stacks.length} (gzip-compressed state is not read here)`);
  const file = stacks[0];
  const doc = JSON.parse(fs.readFileSync(file.path, "utf8"));
  const resources = (doc.checkpoint?.latest?.resources ?? []).map((r) => {
    const props = [];
    for (const side of ["inputs", "outputs"]) for (const [k, v] of Object.entries(r[side] ?? {})) props.push({ name: `${side}.${k}`, bytes: jsonBytes(v) });
    props.sort((a, b) => b.bytes - a.bytes);
    return {
      name: r.urn.split("::").pop(),
      type: r.type,
      bytes: jsonBytes(r),
      inputsBytes: jsonBytes(r.inputs),
      outputsBytes: jsonBytes(r.outputs),
      largest: props.slice(0, 6),
    };
  });
  return {
    bytes: file.size,
    backendDirBytes: files.reduce((s, f) => s + f.size, 0),
    backendFiles: files.length,
    resources,
  };
}

/**
 * The lines of `preview --diff` output that belong to the resource named
 * `name`: its header line (the one above its `[urn=...::name]` line) and
 * every line after it that is indented deeper, up to the next resource or
 * the summary. Returns { lines, total } (total: every line of the output).
 */
function diffSection(output, name) {
  const lines = output.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const urn = lines.findIndex((l) => /^\s*\[urn=.*::/.test(l) && l.trim().endsWith(`::${name}]`));
  if (urn < 0) return { lines: 0, total: lines.length };
  let head = urn - 1;
  while (head > 0 && /^\s*\[\w+=/.test(lines[head])) head--;
  const indent = (l) => l.length - l.trimStart().length;
  const depth = indent(lines[head]);
  let end = urn + 1;
  while (end < lines.length && lines[end].trim() !== "" && indent(lines[end]) > depth) end++;
  return { lines: end - head, total: lines.length, header: lines[head].trim() };
}

module.exports = { checkpoint, diffSection };
