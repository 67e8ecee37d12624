/**
 * npm run test:unit:tensorflow [-- --gpu] — the backend-independent tests (step, loop,
 * micro-batch norms, estimators on real gradients, checkpoints and resume, optimizers, models,
 * the main job's quick run, the native kernel pack) again on a native backend: `tensorflow`
 * (the tensorflow-cpu wheel's build, `npm run setup:native`), or with `--gpu`
 * `tensorflow-gpu` (the CUDA-capable tensorflow wheel's build, `npm run setup:native --
 * --gpu`; on its CPU kernels where there is no CUDA GPU).
 * Skips with a message when that build is missing, unless BATCHWISE_REQUIRE_NATIVE=1 (CI),
 * which makes that a failure.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { parseArgs } from "util";
import { nativeBackendBuilt } from "../lib/backend";

const root = path.join(__dirname, "..");

export const TENSORFLOW_TESTS = [
  "test/backend/native.test.ts",
  "test/train/step.test.ts",
  "test/train/loop.test.ts",
  "test/parallel/data-parallel.test.ts",
  "test/train/memory.test.ts",
  "test/train/checkpoint.test.ts",
  "test/optim/optimizers.test.ts",
  "test/optim/adam.test.ts",
  "test/models/models.test.ts",
  "test/models/normalization.test.ts",
  "test/noise/linreg.test.ts",
  "test/noise/per-example.test.ts",
  "test/noise/adam.test.ts",
  "test/noise/bnoise.test.ts",
  "test/noise/diversity.test.ts",
  "test/noise/hardware.test.ts",
  "test/analysis/grad-norms.test.ts",
  "test/analysis/wall-clock.test.ts",
  "test/cli/main-quick.test.ts",
  "test/train/critical-batch.test.ts",
  "test/train/per-layer-loop.test.ts",
  "test/noise/per-layer.test.ts",
  "test/optim/adascale.test.ts",
  "test/jobs/critical-batch-run.test.ts",
];

const USAGE = "usage: npm run test:unit:tensorflow [-- --gpu]";
let gpu = false;
try {
  gpu = parseArgs({ options: { gpu: { type: "boolean", default: false } } }).values.gpu === true;
} catch (e) {
  // node:util's message names the argument (Unknown option '--gpus').
  process.stderr.write(`test:unit:tensorflow: error: ${(e as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
const backend = gpu ? "tensorflow-gpu" : "tensorflow";
const tag = `test:unit:${backend}`;
if (!nativeBackendBuilt(backend)) {
  const setup = `npm run setup:native${gpu ? " -- --gpu" : ""}`;
  const msg = `${backend} backend not built (${setup}): its test pass is skipped`;
  if (process.env.BATCHWISE_REQUIRE_NATIVE === "1") {
    process.stderr.write(`${tag}: error: ${msg}, but BATCHWISE_REQUIRE_NATIVE=1\n`);
    process.exit(1);
  }
  process.stdout.write(`${tag}: ${msg}\n`);
  process.exit(0);
}
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=1", ...TENSORFLOW_TESTS],
  {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, BATCHWISE_TEST_BACKEND: backend, TF_CPP_MIN_LOG_LEVEL: "2" },
  },
);
process.exit(r.status ?? 1);
