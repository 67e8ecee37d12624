import { test } from "node:test";
import assert from "node:assert/strict";
import { decideNext } from "../../lib/schedules/drive";
import { geoDampSchedule } from "../../lib/schedules/geodamp";
import { adaDampSchedule } from "../../lib/schedules/adadamp";
import { constantSchedule } from "../../lib/schedules/constant";

const progress = { step: 0, examples: 0, datasetSize: 100, lastLoss: null, lastGradSqNorm: null };

test("decideNext builds the observation, clips B to the budget left, and computes F(x_k) only when asked", () => {
  let calls = 0;
  const s = constantSchedule({ batchSize: 64 });
  const r = decideNext(
    s,
    s.init(),
    { ...progress, examples: 150 },
    {
      trainLoss: () => (calls += 1),
      noise: null,
      budgetLeft: 10,
    },
  );
  assert.equal(r.decision.batchSize, 10);
  assert.equal(r.observation.epoch, 1.5);
  assert.equal(r.observation.trainLoss, null);
  assert.equal(calls, 0);
  const a = adaDampSchedule({ initialBatchSize: 8 });
  const r2 = decideNext(a, a.init(), progress, { trainLoss: () => 2.5, noise: null });
  assert.equal(r2.observation.trainLoss, 2.5);
});

test("a fixed schedule is a function of progress: `at` and the loop adapter agree", () => {
  const g = geoDampSchedule({ initialBatchSize: 16, delay: 1 });
  for (const epoch of [0, 0.5, 1, 2.999999999, 3]) {
    const p = { step: 0, epoch, examples: epoch * 100, datasetSize: 100 };
    const viaLoop = decideNext(
      g,
      g.init(),
      { ...progress, examples: p.examples },
      {
        trainLoss: () => 0,
        noise: null,
      },
    ).decision;
    assert.deepEqual({ batchSize: viaLoop.batchSize, lrFactor: viaLoop.lrFactor }, g.at(p));
  }
  assert.equal(g.at({ step: 0, epoch: 2, examples: 200, datasetSize: 100 }).batchSize, 64);
});
