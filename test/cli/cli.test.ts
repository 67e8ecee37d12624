import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";

const root = path.resolve(__dirname, "..", "..");
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("--help describes the main job and its options", () => {
  const r = cli("--help");
  assert.equal(r.code, 0);
  assert.match(r.out, /compare/);
  const sub = cli("compare", "--help");
  assert.equal(sub.code, 0);
  for (const opt of [
    "--quick",
    "--epochs",
    "--batch-size",
    "--growth-every",
    "--backend",
    "--out",
  ]) {
    assert.ok(sub.out.includes(opt), `help mentions ${opt}`);
  }
});

test("unknown options and invalid values are rejected with a message naming them", () => {
  const unknown = cli("--bogus");
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.err, /unknown option '--bogus'/);
  const bad = cli("--epochs", "abc");
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /--epochs must be a number, got 'abc'/);
  const neg = cli("--batch-size=-3", "--data", "/nonexistent");
  assert.notEqual(neg.code, 0);
  assert.match(neg.err, /batchSize: .*got -3/);
  const backend = cli("--backend", "gpu");
  assert.notEqual(backend.code, 0);
  assert.match(backend.err, /Allowed choices are auto, tfjs-node-gpu, tfjs-node, wasm, cpu/);
});

test("a missing data directory is an error naming the file", () => {
  const r = cli("--quick", "--data", "/nonexistent/fmnist", "--no-progress");
  assert.notEqual(r.code, 0);
  assert.match(r.err, /\/nonexistent\/fmnist/);
});
