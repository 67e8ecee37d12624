/**
 * The main job's second run with AdaScale (--adascale) and with batch-size warmup measuring
 * the critical batch size live (--schedule cbs-warmup --schedule-param measureEvery=N).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readRunLog } from "../../lib/report/runlog";
import { trainingBackendName } from "../helpers/backends";

const root = path.resolve(__dirname, "..", "..");
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 300_000,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const small = [
  "--train-subset",
  "1000",
  "--test-subset",
  "200",
  "--epochs",
  "1",
  "--replicas",
  "1",
  "--no-progress",
  "--batch-size",
  "32",
  "--initial-batch-size",
  "32",
  "--max-batch-size",
  "128",
];

test("--adascale with another lr rule or without the noise estimate is refused before training", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "bw-ada-"));
  const rule = cli(...small, "--out", out, "--adascale", "--lr-rule", "sqrt");
  assert.notEqual(rule.code, 0);
  assert.match(rule.err, /lrRule must be none with it, got lrRule=sqrt/);
  const noNoise = cli(...small, "--out", out, "--adascale", "--no-noise-scale");
  assert.notEqual(noNoise.code, 0);
  assert.match(noNoise.err, /adaScale needs the noise-scale estimate .* got noiseScale=false/);
  const branch = cli(
    ...small,
    "--out",
    out,
    "--schedule",
    "cbs-warmup",
    "--schedule-param",
    "measureEvery=500",
    "--cbs-candidates",
    "3",
    "--cbs-branch-examples",
    "100",
  );
  assert.notEqual(branch.code, 0);
  assert.match(branch.err, /examplesPerBranch .*100/);
  assert.ok(!fs.existsSync(path.join(out, "runlog.csv")), "nothing trained");
});

test("cbs-warmup measures the critical batch size in the job; --adascale logs r and τ", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "bw-cbs-"));
  const r = cli(
    ...small,
    "--backend",
    trainingBackendName(),
    "--out",
    out,
    "--schedule",
    "cbs-warmup",
    "--schedule-param",
    "measureEvery=400",
    "--schedule-param",
    "lrRule=none",
    "--cbs-candidates",
    "3",
    "--cbs-branch-examples",
    "256",
    "--cbs-tolerance",
    "0.5",
    "--adascale",
  );
  assert.equal(r.code, 0, r.err);
  const measured = [...r.out.matchAll(/critical batch size (\d+) at (\d+) examples/g)];
  // Measured at update 0, then whenever 400 examples have passed since the last measurement.
  const at = measured.map((m) => Number(m[2]));
  assert.ok(at.length >= 2 && at[0] === 0, r.out);
  at.slice(1).forEach((x, i) => assert.ok(x - at[i] >= 400, `measured at ${at.join(", ")}`));
  // The report puts the second run's B_simple beside these measurements.
  const html = fs.readFileSync(path.join(out, "report.html"), "utf8");
  assert.match(html, /noise scale against the measured critical batch size/);
  const rows = readRunLog(path.join(out, "runlog.csv"));
  const second = rows.filter((x) => x.run !== "constant B=32");
  assert.ok(second.length > 0 && /cbs-warmup.*\+AdaScale/.test(second[0].run), second[0]?.run);
  // ε = 0.5 lets the larger candidates pass: B grows, so S > 1 and AdaScale's gain exceeds 1.
  assert.ok(
    second.some((x) => x.batchSize > 32),
    "the warmup grew B",
  );
  assert.ok(
    second.some((x) => (x.adaScaleGain as number) > 1),
    "r > 1 at S > 1",
  );
  let tau = 0;
  let prevB = 0;
  for (const [i, row] of second.entries()) {
    if (i < second.length - 1) {
      // (the last batch is clipped to the budget)
      assert.ok([32, 64, 128].includes(row.batchSize), `B = ${row.batchSize} at row ${i}`);
      assert.ok(row.batchSize >= prevB, "warmup never shrinks B");
    }
    prevB = row.batchSize;
    const gain = row.adaScaleGain as number;
    assert.ok(
      gain >= 1 && gain <= row.batchSize / 32 + 1e-9,
      `r = ${gain} at B = ${row.batchSize}`,
    );
    tau += gain;
    assert.ok(Math.abs((row.scaleInvariantSteps as number) - tau) < 1e-6);
  }
  // The constant run is plain Adam: no AdaScale columns.
  assert.ok(
    rows.filter((x) => x.run === "constant B=32").every((x) => x.adaScaleGain === undefined),
  );
});
