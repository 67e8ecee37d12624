import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunLogRow } from "../../lib/train/types";
import { hasCheckpoint, loadCheckpoint } from "../../lib/train/checkpoint";
import * as tf from "@tensorflow/tfjs-core";
import { useTrainingBackend } from "../helpers/backends";

const root = path.resolve(__dirname, "..", "..");
const child = ["--import", "tsx", path.join(root, "test", "fixtures", "train-child.ts")];

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "batchwise-ckpt-"));
}

function runToEnd(dir: string, out: string, ...extra: string[]) {
  const r = spawnSync(process.execPath, [...child, dir, out, ...extra], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
  });
  return r;
}

function readRows(file: string): RunLogRow[] {
  return JSON.parse(fs.readFileSync(file, "utf8")) as RunLogRow[];
}

test("a run killed with SIGKILL and resumed repeats the uninterrupted run's batch sizes and losses", async () => {
  // Uninterrupted reference run.
  const refDir = tmp();
  const ref = runToEnd(refDir, path.join(refDir, "rows.json"));
  assert.equal(ref.status, 0, ref.stderr);
  const refRows = readRows(path.join(refDir, "rows.json"));

  // Run, kill -9 after step 10 (checkpoints every 4 steps: the newest is step 8).
  const dir = tmp();
  const out = path.join(dir, "rows.json");
  await new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [...child, dir, out, "--slow"], { cwd: root });
    let buf = "";
    p.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      if (/step 10\n/.test(buf)) p.kill("SIGKILL");
    });
    p.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve();
      else reject(new Error(`child was not killed (exit ${code})`));
    });
  });
  assert.ok(!fs.existsSync(out), "the killed run did not finish");
  assert.ok(hasCheckpoint(dir));
  const resumed = runToEnd(dir, out, "--resume");
  assert.equal(resumed.status, 0, resumed.stderr);
  const rows = readRows(out);

  assert.deepEqual(
    rows.map((r) => r.batchSize),
    refRows.map((r) => r.batchSize),
  );
  assert.deepEqual(
    rows.map((r) => r.examples),
    refRows.map((r) => r.examples),
  );
  // Same backend, same data order, same weights and Adam state: the losses agree to float
  // tolerance (they are bitwise equal in practice; allow 1e-5 relative for kernel ordering).
  for (let i = 0; i < rows.length; i++) {
    const a = rows[i].trainLoss;
    const b = refRows[i].trainLoss;
    assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `step ${i + 1}: ${a} vs ${b}`);
  }
  const accA = rows.filter((r) => r.testAccuracy != null).map((r) => r.testAccuracy);
  const accB = refRows.filter((r) => r.testAccuracy != null).map((r) => r.testAccuracy);
  assert.deepEqual(accA, accB);
});

test("resuming with a different model or configuration is an error naming what differs", () => {
  const dir = tmp();
  const first = runToEnd(dir, path.join(dir, "rows.json"));
  assert.equal(first.status, 0, first.stderr);
  const other = runToEnd(dir, path.join(dir, "rows2.json"), "--resume", "--hidden", "16");
  assert.equal(other.status, 2);
  assert.match(
    other.stderr,
    /CheckpointError: checkpoint .* is for a different model: weight 0 is .* \[784,32\], this model has .* \[784,16\]/,
  );
});

test("a crash while writing leaves the previous checkpoint intact and named", async () => {
  await useTrainingBackend();
  const dir = tmp();
  const r = runToEnd(dir, path.join(dir, "rows.json"));
  assert.equal(r.status, 0, r.stderr);
  const before = loadCheckpoint(dir);
  const step = before.meta.state.step;
  tf.dispose([...before.weights, ...before.optimizer.weights.map((w) => w.tensor)]);
  // Simulate a writer killed mid-way: a half-written directory and a half-written LATEST temp.
  fs.mkdirSync(path.join(dir, "ckpt-9999999.tmp-12345"));
  fs.writeFileSync(path.join(dir, "ckpt-9999999.tmp-12345", "weights.bin"), "partial");
  fs.writeFileSync(path.join(dir, "LATEST.tmp-12345"), "ckpt-99");
  const after = loadCheckpoint(dir);
  assert.equal(after.meta.state.step, step);
  tf.dispose([...after.weights, ...after.optimizer.weights.map((w) => w.tensor)]);
});

test("a corrupted checkpoint file is an error naming the file", () => {
  const dir = tmp();
  const r = runToEnd(dir, path.join(dir, "rows.json"));
  assert.equal(r.status, 0, r.stderr);
  const name = fs.readFileSync(path.join(dir, "LATEST"), "utf8").trim();
  fs.writeFileSync(path.join(dir, name, "state.json"), "{ not json");
  assert.throws(() => loadCheckpoint(dir), /state\.json is not valid JSON/);
});
