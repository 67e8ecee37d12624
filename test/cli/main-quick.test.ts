/**
 * The main job's quick run end to end on the training backend (BATCHWISE_TEST_BACKEND: wasm by
 * default; `npm test` runs it again on tensorflow when the native backend is built).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { trainingBackendName } from "../helpers/backends";

const root = path.join(__dirname, "..", "..");

test("npm run main -- --quick finishes on the training backend with both runs, K and the machine table", () => {
  const backend = trainingBackendName();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "batchwise-quick-"));
  const r = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "cli/main.ts",
      "--quick",
      "--backend",
      backend,
      "--no-progress",
      "--out",
      out,
    ],
    { cwd: root, encoding: "utf8", env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" } },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout + r.stderr, new RegExp(`backend: ${backend}\\b`));
  assert.match(r.stdout, /constant B=64/);
  assert.match(r.stdout, /goodput B0=64/);
  assert.match(r.stdout, /machine: micro-batch \d+; B=64: K=1 \d+\/s, K=2 \d+\/s/);
  assert.ok(fs.existsSync(path.join(out, "report.html")), "report.html written");
  assert.ok(fs.existsSync(path.join(out, "machine.json")), "machine.json written");
  const header = fs.readFileSync(path.join(out, "runlog.csv"), "utf8").split("\n")[0].split(",");
  for (const c of ["run", "wall_clock_s", "test_accuracy", "batch_size", "replicas"]) {
    assert.ok(header.includes(c), `runlog.csv has ${c}`);
  }
});
