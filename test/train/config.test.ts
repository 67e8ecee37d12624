import { test } from "node:test";
import assert from "node:assert/strict";
import { checkpointDue, noiseSplit, parseLoopConfig } from "../../lib/train/config";
import { progressReporter } from "../../lib/report/progress";
import type { RunLogRow } from "../../lib/train/types";

test("noiseSplit: every noiseEvery-th update splits B into noiseMicroBatches parts, else the memory cap", () => {
  const c = parseLoopConfig({ examplesBudget: 1000, learningRate: 0.1, microBatchSize: 512 });
  // defaults: k = 2 every 4th update
  assert.equal(noiseSplit(c, 0, 64, true), 32);
  assert.equal(noiseSplit(c, 1, 64, true), 512);
  assert.equal(noiseSplit(c, 4, 65, true), 33); // ⌈65/2⌉
  assert.equal(noiseSplit(c, 0, 64, false), 512); // no estimator: never split for it
  assert.equal(noiseSplit({ ...c, microBatchSize: 16 }, 0, 64, true), 16); // the cap wins
  assert.equal(noiseSplit({ ...c, noiseMicroBatches: 1 }, 0, 64, true), 512);
});

test("checkpointDue: on stop, by update count, by seconds; 0 turns a trigger off", () => {
  const c = { everySteps: 10, everySeconds: 60 };
  assert.equal(checkpointDue(c, 3, 1, false), false);
  assert.equal(checkpointDue(c, 3, 1, true), true);
  assert.equal(checkpointDue(c, 10, 1, false), true);
  assert.equal(checkpointDue(c, 1, 60, false), true);
  assert.equal(checkpointDue({ everySteps: 0, everySeconds: 0 }, 1e6, 1e6, false), false);
});

test("progressReporter without a terminal prints one line per evaluated row and nothing else", () => {
  const lines: string[] = [];
  const r = progressReporter({ tty: false, log: (s) => lines.push(s) });
  const row = (step: number, acc: number | null): RunLogRow => ({
    run: "r",
    step,
    epoch: step / 10,
    examples: step * 64,
    batchSize: 64,
    learningRate: 1e-3,
    trainLoss: 0.5,
    testLoss: acc == null ? null : 0.4,
    testAccuracy: acc,
    wallClock: step,
  });
  r.onStart?.({ runName: "r", examplesBudget: 640, step: 0, examples: 0 });
  r.onRow?.(row(1, null));
  r.onRow?.(row(2, 0.875));
  r.onEnd?.();
  assert.deepEqual(lines, [
    "r: step 2, epoch 0.20, B 64, train loss 0.5000, test loss 0.4000, test accuracy 87.50%, 2.0 s",
  ]);
});
