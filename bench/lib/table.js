// Plain-text tables: left-aligned text, right-aligned numbers.
"use strict";

/** Renders rows (arrays of cells) under a header; numbers are right-aligned. */
function table(header, rows) {
  const cells = [header, ...rows].map((r) => r.map((c) => (c === undefined || c === null ? "" : String(c))));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const numeric = header.map((_, i) => rows.every((r) => r[i] === undefined || r[i] === "" || /^[-+]?[\d.,]+(x|%| s| MiB\/s| MiB)?$|^[\d.]+–[\d.]+$/.test(String(r[i]))));
  const line = (r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

const secs = (x) => (x === undefined ? "" : x < 10 ? x.toFixed(3) : x.toFixed(2));
const ratio = (x) => (x === undefined || !isFinite(x) ? "" : `${x.toFixed(2)}x`);
const mibps = (bytes, seconds) => (bytes && seconds ? `${(bytes / 1048576 / seconds).toFixed(0)} MiB/s` : "");

module.exports = { table, secs, ratio, mibps };
