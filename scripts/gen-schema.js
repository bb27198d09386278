#!/usr/bin/env node
// Writes plugin/schema.json, the zillizcloud package schema, from the
// compiled zod schemas (run `npm run build` first). The schema test fails
// when the committed file and the zod schemas disagree.
const fs = require("node:fs");
const path = require("node:path");
const { packageSchema } = require("../dist/provider/plugin/schema");

const out = path.join(__dirname, "..", "plugin", "schema.json");
fs.writeFileSync(out, JSON.stringify(packageSchema(), null, 2) + "\n");
console.log(`wrote ${path.relative(process.cwd(), out)}`);
