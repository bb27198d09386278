#!/usr/bin/env node
// Checks every relative link in README.md and docs/*.md: the file it points
// at exists, and a #anchor names a heading of that file (GitHub's slugs).
// External links (http:, https:, mailto:) are not fetched: CI reaches only
// the package registries, and a dead outside page is not ours to fix.
// No dependency on purpose: it runs in CI before anything else is trusted.
//
// Usage: node scripts/check-links.js [root]   (root defaults to the repository)
// Exits 1 and prints file:line and the reason for each broken link.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(process.argv[2] ?? path.join(__dirname, ".."));

function markdownFiles() {
  const files = [path.join(root, "README.md")];
  const docs = path.join(root, "docs");
  if (fs.existsSync(docs)) {
    for (const name of fs.readdirSync(docs).sort()) {
      if (name.endsWith(".md")) files.push(path.join(docs, name));
    }
  }
  return files.filter((f) => fs.existsSync(f));
}

/** Lines outside fenced code blocks, with inline code blanked (a link inside backticks is text). */
function proseLines(text) {
  const out = [];
  let fence = null;
  for (const line of text.split("\n")) {
    const opener = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (opener && opener[1][0] === fence[0] && opener[1].length >= fence.length) fence = null;
      out.push("");
      continue;
    }
    if (opener) {
      fence = opener[1];
      out.push("");
      continue;
    }
    out.push(line.replace(/(`+)[^`]*?\1/g, (m) => " ".repeat(m.length)));
  }
  return out;
}

/** GitHub's heading ids: lower case, punctuation dropped, spaces to "-", repeats numbered. */
function anchorsOf(file) {
  const anchors = new Set();
  const seen = new Map();
  let fence = null;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const opener = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (opener && opener[1][0] === fence[0] && opener[1].length >= fence.length) fence = null;
      continue;
    }
    if (opener) {
      fence = opener[1];
      continue;
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/<[^>]+>/g, "");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

const anchorCache = new Map();
function hasAnchor(file, anchor) {
  if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(file));
  return anchorCache.get(file).has(decodeURIComponent(anchor).toLowerCase());
}

function check() {
  const problems = [];
  let count = 0;
  for (const file of markdownFiles()) {
    const lines = proseLines(fs.readFileSync(file, "utf8"));
    lines.forEach((line, i) => {
      // [text](target) and [text](target "title"); images too.
      for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        const target = m[1];
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        count++;
        const where = `${path.relative(root, file)}:${i + 1}`;
        const [rawPath, anchor] = target.split("#", 2);
        const resolved = rawPath === "" ? file : path.resolve(path.dirname(file), decodeURIComponent(rawPath));
        if (!resolved.startsWith(root + path.sep) && resolved !== root) {
          problems.push(`${where}: ${target} points outside the repository`);
          continue;
        }
        if (!fs.existsSync(resolved)) {
          problems.push(`${where}: ${target}: no such file ${path.relative(root, resolved)}`);
          continue;
        }
        if (anchor && resolved.endsWith(".md") && !hasAnchor(resolved, anchor)) {
          problems.push(`${where}: ${target}: no heading with the anchor #${anchor} in ${path.relative(root, resolved)}`);
        }
      }
    });
  }
  return { problems, count };
}

const { problems, count } = check();
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`${problems.length} broken link(s) of ${count} relative link(s) checked`);
  process.exit(1);
}
console.log(`${count} relative link(s) checked in README.md and docs/*.md: all resolve`);
