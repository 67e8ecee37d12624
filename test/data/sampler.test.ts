import { test } from "node:test";
import assert from "node:assert/strict";
import {
  SamplerState,
  epochPermutation,
  parseSamplerState,
  sampleBatch,
  samplerInit,
} from "../../lib/data";
import { assertDatasetError } from "./helpers";

function isPermutation(a: ArrayLike<number>, n: number): boolean {
  if (a.length !== n) return false;
  const seen = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (!Number.isInteger(v) || v < 0 || v >= n || seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}

/** Draws batches of the given sizes, returning all indices concatenated and the final state. */
function draw(state: SamplerState, sizes: number[]): { all: number[]; state: SamplerState } {
  const all: number[] = [];
  for (const b of sizes) {
    const r = sampleBatch(state, b);
    assert.equal(r.indices.length, b);
    all.push(...r.indices);
    state = r.state;
  }
  return { all, state };
}

test("samplerInit returns plain JSON state and validates n and seed", () => {
  const s = samplerInit({ n: 10, seed: 7 });
  assert.deepEqual(s, { n: 10, seed: 7, epoch: 0, position: 0 });
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  assertDatasetError(() => samplerInit({ n: 0, seed: 1 }), "n must be", "got 0");
  assertDatasetError(() => samplerInit({ n: 2.5, seed: 1 }), "got 2.5");
  assertDatasetError(() => samplerInit({ n: 5, seed: 0.5 }), "seed", "got 0.5");
});

test("every epoch is a permutation of 0..n-1, and epochs differ", () => {
  const n = 37;
  let state = samplerInit({ n, seed: 3 });
  const epochs: string[] = [];
  for (let e = 0; e < 10; e++) {
    const r = sampleBatch(state, n);
    assert.ok(isPermutation(r.indices, n), `epoch ${e} is not a permutation`);
    assert.equal(r.epochsCompleted, 1);
    assert.deepEqual(r.state, { n, seed: 3, epoch: e + 1, position: 0 });
    assert.deepEqual([...r.indices], [...epochPermutation(n, 3, e)]);
    epochs.push(r.indices.join(","));
    state = r.state;
  }
  assert.equal(new Set(epochs).size, 10);
});

test("the same seed gives the same sequence; another seed a different one", () => {
  const sizes = [5, 3, 8, 1, 20];
  const a = draw(samplerInit({ n: 11, seed: 42 }), sizes).all;
  const b = draw(samplerInit({ n: 11, seed: 42 }), sizes).all;
  const c = draw(samplerInit({ n: 11, seed: 43 }), sizes).all;
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // Negative and large seeds are valid and distinct.
  const neg = epochPermutation(50, -1, 0);
  const big = epochPermutation(50, 2 ** 40 + 1, 0);
  const one = epochPermutation(50, 1, 0);
  assert.ok(isPermutation(neg, 50) && isPermutation(big, 50));
  assert.notDeepEqual([...neg], [...one]);
  assert.notDeepEqual([...big], [...one]);
});

test("sampleBatch is pure: the input state is not modified", () => {
  const s = samplerInit({ n: 9, seed: 5 });
  const copy = { ...s };
  const r1 = sampleBatch(s, 4);
  const r2 = sampleBatch(s, 4);
  assert.deepEqual(s, copy);
  assert.deepEqual([...r1.indices], [...r2.indices]);
  assert.deepEqual(r1.state, { n: 9, seed: 5, epoch: 0, position: 4 });
  r1.indices[0] = -1; // returned arrays are copies, not the cached permutation
  assert.deepEqual([...sampleBatch(s, 4).indices], [...r2.indices]);
});

test("a JSON round-trip of the state mid-epoch continues identically", () => {
  const sizes = [3, 4, 2];
  const mid = draw(samplerInit({ n: 13, seed: 9 }), sizes).state; // position 9 of epoch 0
  assert.deepEqual(mid, { n: 13, seed: 9, epoch: 0, position: 9 });
  const restored = parseSamplerState(JSON.parse(JSON.stringify(mid)));
  const later = [6, 10, 1, 5];
  assert.deepEqual(draw(restored, later), draw(mid, later));
});

test("changing batch sizes cover each example exactly once per epoch", () => {
  const n = 23;
  const seed = 11;
  const sizes: number[] = [];
  for (let i = 0; i < 60; i++) sizes.push([1, 7, 3, 50, 13, 2, 23][i % 7]);
  const total = sizes.reduce((a, b) => a + b, 0);
  const { all, state } = draw(samplerInit({ n, seed }), sizes);
  // The concatenation of all batches is perm_0 ‖ perm_1 ‖ …
  const epochs = Math.floor(total / n);
  for (let e = 0; e < epochs; e++) {
    const chunk = all.slice(e * n, (e + 1) * n);
    assert.ok(isPermutation(chunk, n), `epoch ${e} not covered exactly once`);
    assert.deepEqual(chunk, [...epochPermutation(n, seed, e)]);
  }
  assert.deepEqual(state, { n, seed, epoch: epochs, position: total % n });
});

test("a batch larger than n spans several epochs", () => {
  // n = 5, batch 12 = 5 + 5 + 2: finishes epochs 0 and 1, stops at position 2 of epoch 2.
  const r = sampleBatch(samplerInit({ n: 5, seed: 0 }), 12);
  assert.equal(r.epochsCompleted, 2);
  assert.deepEqual(r.state, { n: 5, seed: 0, epoch: 2, position: 2 });
  assert.ok(isPermutation(r.indices.subarray(0, 5), 5));
  assert.ok(isPermutation(r.indices.subarray(5, 10), 5));
  assert.deepEqual([...r.indices.subarray(10)], [...epochPermutation(5, 0, 2).subarray(0, 2)]);
  // n = 1: every batch is all zeros.
  assert.deepEqual([...sampleBatch(samplerInit({ n: 1, seed: 0 }), 3).indices], [0, 0, 0]);
});

test("batchSize must be an integer >= 1", () => {
  const s = samplerInit({ n: 4, seed: 1 });
  for (const b of [0, -1, 1.5, NaN]) {
    assertDatasetError(() => sampleBatch(s, b), "batchSize", `got ${b}`);
  }
});

test("parseSamplerState rejects malformed states", () => {
  assertDatasetError(() => parseSamplerState(null), "must be an object");
  assertDatasetError(() => parseSamplerState({ n: 4, seed: 1, epoch: 0 }), "position", "undefined");
  assertDatasetError(
    () => parseSamplerState({ n: 4, seed: 1, epoch: 0, position: 0, rng: [1] }),
    "unknown key 'rng'",
  );
  assertDatasetError(
    () => parseSamplerState({ n: 4, seed: 1, epoch: 0, position: 4 }),
    "position",
    "[0, 4)",
    "got 4",
  );
  assertDatasetError(
    () => sampleBatch({ n: 4, seed: 1, epoch: -1, position: 0 }, 1),
    "epoch",
    "got -1",
  );
});

test("Fisher-Yates is uniform: all 24 orders of 4 items appear about equally", () => {
  // 2400 epochs, 24 permutations: expected 100 each, sd ≈ √(100·23/24) ≈ 9.8; allow ±45 (≈4.6 sd).
  const counts = new Map<string, number>();
  for (let e = 0; e < 2400; e++) {
    const key = epochPermutation(4, 123, e).join("");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 24);
  for (const [k, c] of counts) assert.ok(c > 55 && c < 145, `order ${k} appeared ${c} times`);
});
