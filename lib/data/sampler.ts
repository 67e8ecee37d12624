/**
 * A seeded epoch sampler: sampling without replacement, one full random permutation of
 * `0 … n−1` per epoch, with any batch size on any call (adaptive batch sizes change it
 * every few steps).
 *
 * The permutation of epoch `e` is a Fisher–Yates shuffle driven by a xoroshiro128+ generator
 * (pure-rand) whose 128-bit state is a hash of `(seed, e)`. So the sampler's whole state is
 * the plain JSON `{n, seed, epoch, position}` — no generator internals — and a checkpoint
 * restores it exactly. A batch that reaches the end of an epoch takes the rest of that
 * epoch's permutation and continues with the next epoch's, so every example appears exactly
 * once per epoch whatever the batch sizes.
 */
import { DatasetError } from "../core/errors";

// pure-rand 8 publishes its modules only through package.json "exports" subpaths, which
// TypeScript's moduleResolution "node" cannot see: load by subpath, type via the lib/ files.
/* eslint-disable @typescript-eslint/no-require-imports */
type Xoroshiro = typeof import("pure-rand/lib/generator/xoroshiro128plus");
type UniformInt = typeof import("pure-rand/lib/distribution/uniformInt");
const { xoroshiro128plusFromState } = require("pure-rand/generator/xoroshiro128plus") as Xoroshiro;
const { uniformInt } = require("pure-rand/distribution/uniformInt") as UniformInt;
/* eslint-enable @typescript-eslint/no-require-imports */

/** The sampler's complete state: plain, JSON-serialisable data. */
export interface SamplerState {
  /** Number of examples; indices are `0 … n−1`. Integer ≥ 1. */
  n: number;
  /** Seed (any safe integer); with `epoch` it determines the epoch's permutation. */
  seed: number;
  /** Current epoch, 0-based. */
  epoch: number;
  /** Examples of this epoch already returned, in `[0, n)`: the next index is `perm[position]`. */
  position: number;
}

/** What {@link sampleBatch} returns. */
export interface SampledBatch {
  /** The batch's example indices, each in `[0, n)`. */
  indices: Int32Array;
  /** The state after this batch (the input state is not modified). */
  state: SamplerState;
  /** How many epochs this batch finished (usually 0; ≥ 1 when it reached an epoch's end). */
  epochsCompleted: number;
}

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Low and high 32-bit words of a safe integer (two's complement for negatives). */
function words(x: number): [number, number] {
  return [x >>> 0, Math.floor(x / 0x100000000) >>> 0];
}

/** A generator whose state is a hash of (seed, epoch). */
function generatorFor(seed: number, epoch: number): ReturnType<typeof xoroshiro128plusFromState> {
  const input = [...words(seed), ...words(epoch)];
  const state = [0, 1, 2, 3].map((k) => {
    let h = Math.imul(k + 1, 0x9e3779b9);
    for (const w of input) h = fmix32(h ^ w);
    return h | 0;
  });
  if (state.every((s) => s === 0)) state[0] = 1; // xoroshiro's one forbidden state
  return xoroshiro128plusFromState(state);
}

/**
 * The permutation of `0 … n−1` used for epoch `epoch`: Fisher–Yates (Durstenfeld), for
 * `i = n−1 … 1` swap `perm[i]` with `perm[j]`, `j` uniform in `[0, i]`.
 *
 * @param n - Number of examples, integer in [1, 2³¹).
 * @param seed - Seed, a safe integer.
 * @param epoch - Epoch, a non-negative safe integer.
 * @returns A fresh `Int32Array` holding each of `0 … n−1` once.
 * @throws {DatasetError} If an argument is out of range (naming it and the value).
 * @example
 * ```ts
 * epochPermutation(5, 42, 0); // e.g. Int32Array [3, 0, 4, 1, 2]; same every call
 * ```
 */
export function epochPermutation(n: number, seed: number, epoch: number): Int32Array {
  checkState({ n, seed, epoch, position: 0 }, "epochPermutation");
  return cachedPermutation(n, seed, epoch).slice();
}

function shuffle(n: number, seed: number, epoch: number): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const rng = generatorFor(seed, epoch);
  for (let i = n - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

// A memo, not state: permutations are a pure function of (n, seed, epoch), so caching the
// few most recent ones changes no result. Cached arrays are never handed out (callers get
// copies), so nobody can modify them.
const CACHE_SIZE = 4;
const cache = new Map<string, Int32Array>();

function cachedPermutation(n: number, seed: number, epoch: number): Int32Array {
  const key = `${n}:${seed}:${epoch}`;
  let perm = cache.get(key);
  if (perm === undefined) {
    perm = shuffle(n, seed, epoch);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  } else {
    cache.delete(key); // re-inserted below as most recently used
  }
  cache.set(key, perm);
  return perm;
}

function checkState(s: SamplerState, where: string): void {
  if (!Number.isInteger(s.n) || s.n < 1 || s.n >= 2 ** 31) {
    throw new DatasetError(`${where}: n must be an integer in [1, 2^31), got ${s.n}`);
  }
  if (!Number.isSafeInteger(s.seed)) {
    throw new DatasetError(`${where}: seed must be a safe integer, got ${s.seed}`);
  }
  if (!Number.isSafeInteger(s.epoch) || s.epoch < 0) {
    throw new DatasetError(`${where}: epoch must be a non-negative integer, got ${s.epoch}`);
  }
  if (!Number.isInteger(s.position) || s.position < 0 || s.position >= s.n) {
    throw new DatasetError(
      `${where}: position must be an integer in [0, n) = [0, ${s.n}), got ${s.position}`,
    );
  }
}

/**
 * Checks that a value (e.g. parsed from a checkpoint's JSON) is a valid sampler state.
 *
 * @param state - Candidate `{n, seed, epoch, position}`; other keys are rejected.
 * @returns A fresh copy of the state.
 * @throws {DatasetError} Naming the first missing, unknown or invalid field and its value.
 * @example
 * ```ts
 * const state = parseSamplerState(JSON.parse(text));
 * ```
 */
export function parseSamplerState(state: unknown): SamplerState {
  if (typeof state !== "object" || state === null || Array.isArray(state)) {
    throw new DatasetError(`sampler state must be an object, got ${JSON.stringify(state)}`);
  }
  const known = ["n", "seed", "epoch", "position"];
  for (const k of Object.keys(state)) {
    if (!known.includes(k)) throw new DatasetError(`sampler state: unknown key '${k}'`);
  }
  const s = state as Record<string, unknown>;
  for (const k of known) {
    if (typeof s[k] !== "number") {
      throw new DatasetError(`sampler state: ${k} must be a number, got ${JSON.stringify(s[k])}`);
    }
  }
  const out = { n: s.n, seed: s.seed, epoch: s.epoch, position: s.position } as SamplerState;
  checkState(out, "sampler state");
  return out;
}

/**
 * Creates a sampler at the start of epoch 0.
 *
 * @param options - `n`: number of examples, integer in [1, 2³¹); `seed`: any safe integer.
 * @returns `{n, seed, epoch: 0, position: 0}`.
 * @throws {DatasetError} If `n` or `seed` is invalid (naming it and the value).
 * @example
 * ```ts
 * let state = samplerInit({ n: 60000, seed: 0 });
 * ```
 */
export function samplerInit(options: { n: number; seed: number }): SamplerState {
  const state = { n: options.n, seed: options.seed, epoch: 0, position: 0 };
  checkState(state, "samplerInit");
  return state;
}

/**
 * Draws the next `batchSize` indices; pure (returns the new state, leaves `state` as is).
 *
 * The indices are `perm_e[position … position + batchSize − 1]`; when that passes the end of
 * epoch `e` the rest comes from `perm_{e+1}` (and so on, if `batchSize > n`). Hence the
 * concatenation of all batches is `perm_0 ‖ perm_1 ‖ …`, whatever the batch sizes.
 *
 * @param state - Current state (from {@link samplerInit}, a previous call, or
 *   {@link parseSamplerState}).
 * @param batchSize - Number of indices, integer in [1, 2³¹); may exceed `n`, may differ on
 *   every call.
 * @returns `{indices, state, epochsCompleted}`: the batch, the next state (its `position` is
 *   always `< n`: finishing an epoch exactly moves to position 0 of the next), and the number
 *   of epochs this batch finished.
 * @throws {DatasetError} If `batchSize` or the state is invalid (naming it and the value).
 * @example
 * ```ts
 * let state = samplerInit({ n: 10, seed: 1 });
 * const a = sampleBatch(state, 4); // indices: perm_0[0..3]
 * state = a.state; // {n: 10, seed: 1, epoch: 0, position: 4}
 * ```
 */
export function sampleBatch(state: SamplerState, batchSize: number): SampledBatch {
  checkState(state, "sampleBatch");
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize >= 2 ** 31) {
    throw new DatasetError(`sampleBatch: batchSize must be an integer >= 1, got ${batchSize}`);
  }
  const { n, seed } = state;
  let { epoch, position } = state;
  let epochsCompleted = 0;
  const indices = new Int32Array(batchSize);
  let filled = 0;
  while (filled < batchSize) {
    const perm = cachedPermutation(n, seed, epoch);
    const take = Math.min(batchSize - filled, n - position);
    indices.set(perm.subarray(position, position + take), filled);
    filled += take;
    position += take;
    if (position === n) {
      epoch += 1;
      position = 0;
      epochsCompleted += 1;
    }
  }
  return { indices, state: { n, seed, epoch, position }, epochsCompleted };
}
