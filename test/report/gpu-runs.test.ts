/**
 * Committed GPU runs (lib/report/gpu-runs.ts): the run in docs/gpu-runs validates, its
 * throughput points are 1000·B / ms of the rows it holds, ratios follow; a missing folder is
 * no run; malformed files are ConfigErrors naming the file and field.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  DEFAULT_GPU_RUNS_DIR,
  gpuThroughput,
  loadGpuRuns,
  throughputRatio,
} from "../../lib/report/gpu-runs";

const CNN = "main-job CNN (smallCnn) 28x28x1";

test("the committed H200 run loads: device, date, code, and throughput from its rows", () => {
  const runs = loadGpuRuns();
  assert.ok(runs.length >= 1, `no run under ${DEFAULT_GPU_RUNS_DIR}`);
  const run = runs.find((r) => r.dir.endsWith("2026-12-04-h200"));
  assert.ok(run != null);
  assert.equal(run.info.date, "2026-12-04");
  assert.match(run.info.device, /H200/);
  assert.equal(run.results.backend.name, "webgpu");
  const points = gpuThroughput(run, CNN);
  const sweepRow = run.results.batchSweep?.find((p) => p.model === CNN && p.batchSize === 1024);
  const torchRow = run.anchor.filter((p) => p.model === CNN && p.batchSize === 1024).pop();
  assert.ok(sweepRow?.msPerStep != null && torchRow?.msPerStep != null);
  const p1024 = points.find((p) => p.batchSize === 1024);
  assert.equal(p1024?.webgpu, (1000 * 1024) / sweepRow.msPerStep);
  assert.equal(p1024?.pytorch, (1000 * 1024) / torchRow.msPerStep);
  // ascending, one point per B
  const bs = points.map((p) => p.batchSize);
  assert.deepEqual(
    bs,
    [...new Set(bs)].sort((a, b) => a - b),
  );
});

test("throughputRatio: examples/s at `to` over `from`, null when either is missing", () => {
  const pts = [
    { batchSize: 64, webgpu: 100, pytorch: 2000 },
    { batchSize: 256, webgpu: null, pytorch: 5000 },
    { batchSize: 1024, webgpu: 900, pytorch: 24000 },
  ];
  assert.equal(throughputRatio(pts, "webgpu"), 9);
  assert.equal(throughputRatio(pts, "pytorch"), 12);
  assert.equal(throughputRatio(pts, "webgpu", 64, 256), null);
  assert.equal(throughputRatio(pts, "pytorch", 64, 4096), null);
});

test("loadGpuRuns: no folder is no run; a bad results.json names the file and the field", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gpu-runs-"));
  assert.deepEqual(loadGpuRuns(path.join(dir, "missing")), []);
  const run = path.join(dir, "2026-01-01-x");
  fs.mkdirSync(run);
  fs.writeFileSync(
    path.join(run, "run.json"),
    JSON.stringify({ date: "2026-01-01", device: "d", code: "c", backend: "webgpu" }),
  );
  assert.throws(() => loadGpuRuns(dir), /has run.json but no results.json/);
  fs.writeFileSync(path.join(run, "results.json"), "{ not json");
  assert.throws(() => loadGpuRuns(dir), /results\.json: not readable JSON/);
  fs.writeFileSync(
    path.join(run, "results.json"),
    JSON.stringify({ started: "t", mode: "cpu", backend: { name: "wasm", description: "" } }),
  );
  assert.throws(() => loadGpuRuns(dir), /results\.json: mode: Invalid literal value/);
  fs.rmSync(dir, { recursive: true });
});
