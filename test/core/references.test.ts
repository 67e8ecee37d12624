import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";

const root = path.join(__dirname, "..", "..");

function files(dir: string, ext: RegExp): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p, ext) : ext.test(p) ? [p] : [];
  });
}

test("every file a lib/ docstring cites is in the repository, and every docs/design.md § exists", () => {
  const design = fs.readFileSync(path.join(root, "docs", "design.md"), "utf8");
  const sections = new Set([...design.matchAll(/^## (\d+)\./gm)].map((m) => m[1]));
  const missing: string[] = [];
  for (const f of files(path.join(root, "lib"), /\.ts$/)) {
    const src = fs.readFileSync(f, "utf8");
    const where = path.relative(root, f);
    for (const m of src.matchAll(
      /\b((?:lib|docs|bench|scripts|test|notebooks)\/[\w./-]*\w\.(?:ts|md|ipynb|cjs|mjs|py|json))\b/g,
    )) {
      if (!fs.existsSync(path.join(root, m[1]))) missing.push(`${where}: ${m[1]}`);
    }
    for (const m of src.matchAll(/docs\/design\.md §(\d+)/g)) {
      if (!sections.has(m[1])) missing.push(`${where}: docs/design.md §${m[1]}`);
    }
    if (/DESIGN\.md|\.\.\/shared\//.test(src))
      missing.push(`${where}: cites a file outside the repository`);
  }
  assert.deepEqual(missing, []);
});
