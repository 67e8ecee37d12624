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

test("npm run main -- --quick finishes on the training backend with both runs in the table", () => {
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
  assert.match(r.stdout, /growing B=64/);
  assert.ok(fs.existsSync(path.join(out, "report.html")), "report.html written");
});
