import { test } from "node:test";
import assert from "node:assert/strict";
import { cbsWarmupSchedule } from "../../lib/schedules/cbs-warmup";
import { constantSchedule } from "../../lib/schedules/constant";
import { lrDecayFactor, withLrDecay } from "../../lib/schedules/lr-decay";
import { obs } from "./obs";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} ≉ ${b}`);

test("lr decay: cosine and linear closed forms over examples, f_end from E on", () => {
  const E = 1000;
  close(lrDecayFactor(0, { totalExamples: E }), 1);
  close(lrDecayFactor(500, { totalExamples: E, finalFactor: 0 }), 0.5);
  close(lrDecayFactor(250, { totalExamples: E, finalFactor: 0 }), (1 + Math.SQRT1_2) / 2);
  close(lrDecayFactor(500, { totalExamples: E }), 0.1 + 0.9 * 0.5);
  close(lrDecayFactor(1000, { totalExamples: E }), 0.1);
  close(lrDecayFactor(5000, { totalExamples: E }), 0.1);
  close(lrDecayFactor(250, { totalExamples: E, shape: "linear", finalFactor: 0.2 }), 0.8);
  close(lrDecayFactor(1000, { totalExamples: E, shape: "linear", finalFactor: 0.2 }), 0.2);
  assert.throws(() => lrDecayFactor(0, { totalExamples: 0 }), /totalExamples .*got 0/);
  assert.throws(
    () => lrDecayFactor(0, { totalExamples: 10, finalFactor: 1.5 }),
    /finalFactor must be in \[0, 1\], got 1.5/,
  );
  assert.throws(
    () =>
      withLrDecay(constantSchedule({ batchSize: 8 }), {
        totalExamples: 10,
        shape: "step" as "linear",
      }),
    /shape must be cosine or linear, got step/,
  );
});

test("withLrDecay multiplies the inner lrFactor, keeps B, the state and the CBS requests", () => {
  const inner = cbsWarmupSchedule(
    { initialBatchSize: 8, maxBatchSize: 64, measureEvery: 100, lrRule: "sqrt" },
    { datasetSize: 1000 },
  );
  const s = withLrDecay(inner, { totalExamples: 1000, finalFactor: 0 });
  assert.equal(s.name, "cbs-warmup+cosine");
  const st = s.init();
  assert.deepEqual(st, inner.init());
  assert.equal(s.wantsCriticalBatch?.(st, { step: 0, examples: 0 }), true);
  const d = s.update(st, obs({ examples: 500, criticalBatchSize: 32 }));
  const di = inner.update(st, obs({ examples: 500, criticalBatchSize: 32 }));
  assert.equal(d.batchSize, 16); // one doubling per reading
  assert.deepEqual(d.state, di.state);
  close(d.lrFactor, Math.SQRT2 * 0.5); // √(16/8) × cosine midpoint
});
