/**
 * Batch-size warmup (Merrill, Arora, Groeneveld & Hajishirzi 2025, "Critical Batch Size
 * Revisited", arXiv:2505.23971, §5): start small and double B whenever the measured critical
 * batch size allows it — measured every N examples through a callback the loop supplies (a
 * schedule cannot import train/), or read from a CBS(t) curve given as data.
 */
import { linearScaling, sqrtScaling } from "./lr-rules";
import type { BatchSchedule } from "./types";
import { requireInt, requireNumber, ScheduleConfigError } from "./types";

/** One point of a CBS(t) curve: from `examples` processed on, the critical batch size. */
export interface CbsPoint {
  /** Examples processed, ≥ 0. */
  examples: number;
  /** The critical batch size there, > 0. */
  criticalBatchSize: number;
}

/** Parameters of {@link cbsWarmupSchedule}. */
export interface CbsWarmupOptions {
  /** B₀, the batch size at the start, integer ≥ 1. */
  initialBatchSize: number;
  /** B_max, integer ≥ B₀; default the training-set size n (at least B₀). */
  maxBatchSize?: number;
  /**
   * N: ask the loop for a fresh CBS measurement every N examples (the first at update 0);
   * integer ≥ 1. Required unless `curve` is given.
   */
  measureEvery?: number;
  /** A CBS(t) curve as data (step function in examples); replaces measurements. */
  curve?: CbsPoint[];
  /** Growth factor per change, > 1; default 2 (doubling, as in the paper). */
  growthFactor?: number;
  /**
   * At most this many growths per CBS reading (a measurement, or a new point of the curve),
   * integer ≥ 1; default 1 — the paper's rule: when the CBS exceeds 2B, double B once. A larger
   * value lets one reading jump B several doublings towards the CBS.
   */
  growthsPerReading?: number;
  /**
   * Learning-rate rule relative to B₀: "linear" (B/B₀), "sqrt" (√(B/B₀)) or "none"; default
   * "sqrt" (this library's default, the square-root rule commonly paired with Adam).
   */
  lrRule?: "linear" | "sqrt" | "none";
}

/** State of {@link cbsWarmupSchedule}: plain JSON. */
export interface CbsWarmupState {
  /** B in force, integer ≥ B₀. */
  batchSize: number;
  /** The last CBS received or read, or null before the first. */
  criticalBatchSize: number | null;
  /**
   * Examples processed at the last measurement (with a curve: the `examples` of the curve point
   * last read), or null before the first.
   */
  measuredAt: number | null;
}

/**
 * The warmup batch after a CBS reading: grow B by `factor` while the grown batch stays within
 * the CBS and B_max; never shrink (warmup is monotone).
 *
 * `B' = B·f^j`, j the largest integer in [0, j_max] with `B·f^j ≤ max(B, min(CBS, B_max))`.
 *
 * @param batchSize - B now, integer ≥ 1.
 * @param criticalBatchSize - The CBS reading (> 0), or null (B unchanged).
 * @param factor - f > 1.
 * @param maxBatchSize - B_max ≥ B.
 * @param maxGrowths - j_max, the most growths this reading allows; default unbounded.
 * @returns B', an integer (rounded down when f is not an integer).
 * @example warmupBatchSize(32, 200, 2, 4096) // 128 (256 > 200)
 */
export function warmupBatchSize(
  batchSize: number,
  criticalBatchSize: number | null,
  factor: number,
  maxBatchSize: number,
  maxGrowths = Infinity,
): number {
  if (criticalBatchSize === null || !Number.isFinite(criticalBatchSize)) return batchSize;
  const cap = Math.min(criticalBatchSize, maxBatchSize);
  let b = batchSize;
  for (let j = 0; j < maxGrowths; j++) {
    const next = Math.floor(b * factor);
    if (next > cap || next <= b) break;
    b = next;
  }
  return b;
}

/**
 * The CBS of a step-function curve at `examples`: the value of the last point at or before it,
 * or null before the first point.
 * @example cbsAt([{ examples: 0, criticalBatchSize: 16 }, { examples: 1000, criticalBatchSize: 64 }], 500) // 16
 */
export function cbsAt(curve: readonly CbsPoint[], examples: number): number | null {
  return curvePointAt(curve, examples)?.criticalBatchSize ?? null;
}

function curvePointAt(curve: readonly CbsPoint[], examples: number): CbsPoint | null {
  let v: CbsPoint | null = null;
  for (const p of curve) if (p.examples <= examples) v = p;
  return v;
}

function checkCurve(curve: CbsPoint[]): void {
  if (!Array.isArray(curve) || curve.length === 0) {
    throw new ScheduleConfigError(`curve must be a non-empty array, got ${JSON.stringify(curve)}`);
  }
  curve.forEach((p, i) => {
    requireNumber(`curve[${i}].examples`, p.examples, 0, true);
    requireNumber(`curve[${i}].criticalBatchSize`, p.criticalBatchSize, 0);
    if (i > 0 && p.examples <= curve[i - 1].examples) {
      throw new ScheduleConfigError(
        `curve must be strictly increasing in examples, got ${curve[i - 1].examples} then ${p.examples} at curve[${i}]`,
      );
    }
  });
}

/**
 * Batch-size warmup driven by the critical batch size:
 *
 * every N examples (or at each point of a CBS(t) curve) read CBS(t); `B ← B·2^j` for the
 * largest j ≤ growthsPerReading (default 1) with `B·2^j ≤ min(CBS(t), B_max)`
 * ({@link warmupBatchSize}); lrFactor = rule(B/B₀).
 *
 * Source: Merrill et al. (2025, arXiv:2505.23971), §5 "batch size warmup": the CBS starts near
 * 0, grows fast early and then plateaus; doubling B when the measured CBS allows reached
 * slightly better loss than a constant large batch with 43 % fewer gradient steps on OLMo 1B.
 *
 * How it runs in the loop: {@link BatchSchedule.wantsCriticalBatch} is true at the first update
 * and whenever `examples − measuredAt ≥ N`; the loop then calls the measurement the job passed
 * (`measureCriticalBatch`, e.g. lib/train/critical-batch.ts) and puts the result in
 * `obs.criticalBatchSize`. With `curve` nothing is measured. Between readings B holds.
 *
 * Departures: the paper doubles B at hand-picked token counts read off a measured CBS curve
 * (its warmup is a fixed schedule: 1024 → 2048 → 4096 on OLMo 1B); here the doubling follows
 * live measurements, or a given curve, one doubling per reading by default as in the paper's
 * rule (`growthsPerReading` allows more); the learning-rate rule is a parameter (see
 * {@link CbsWarmupOptions.lrRule}).
 *
 * @param opts - See {@link CbsWarmupOptions}.
 * @param ctx - `{datasetSize: n}` for the default B_max.
 * @returns A schedule named "cbs-warmup" with state {@link CbsWarmupState}.
 * @throws ScheduleConfigError naming the parameter and value on B₀ < 1, B_max < B₀, neither
 *   measureEvery nor curve (or both), measureEvery < 1, a curve not strictly increasing in
 *   examples or with a CBS ≤ 0, growthFactor ≤ 1, growthsPerReading not an integer ≥ 1, or an
 *   unknown lrRule.
 * @example
 * ```ts
 * const s = cbsWarmupSchedule({ initialBatchSize: 32, measureEvery: 50000 }, { datasetSize: n });
 * // measured CBS 200 at update 0 → B = 64 (one doubling per reading), lrFactor √2
 * ```
 */
export function cbsWarmupSchedule(
  opts: CbsWarmupOptions,
  ctx: { datasetSize: number },
): BatchSchedule<CbsWarmupState> {
  const b0 = opts.initialBatchSize;
  requireInt("initialBatchSize", b0, 1);
  const bMax = opts.maxBatchSize ?? Math.max(b0, Math.floor(ctx.datasetSize));
  requireInt("maxBatchSize", bMax, b0);
  if ((opts.measureEvery === undefined) === (opts.curve === undefined)) {
    throw new ScheduleConfigError(
      `exactly one of measureEvery and curve must be given, got measureEvery=${opts.measureEvery} and curve=${JSON.stringify(opts.curve)}`,
    );
  }
  if (opts.measureEvery !== undefined) requireInt("measureEvery", opts.measureEvery, 1);
  if (opts.curve !== undefined) checkCurve(opts.curve);
  const factor = opts.growthFactor ?? 2;
  requireNumber("growthFactor", factor, 1);
  const perReading = opts.growthsPerReading ?? 1;
  requireInt("growthsPerReading", perReading, 1);
  const rule = opts.lrRule ?? "sqrt";
  if (!["linear", "sqrt", "none"].includes(rule)) {
    throw new ScheduleConfigError(`lrRule must be one of linear, sqrt, none, got ${String(rule)}`);
  }
  const lrFactor = (b: number) =>
    rule === "linear" ? linearScaling(b, b0) : rule === "sqrt" ? sqrtScaling(b, b0) : 1;
  const curve = opts.curve ? opts.curve.map((p) => ({ ...p })) : null;
  const every = opts.measureEvery ?? 0;
  const wants = (state: CbsWarmupState, progress: { examples: number }): boolean =>
    curve === null && (state.measuredAt === null || progress.examples - state.measuredAt >= every);

  return {
    name: "cbs-warmup",
    init: () => ({ batchSize: b0, criticalBatchSize: null, measuredAt: null }),
    wantsCriticalBatch: wants,
    update: (state, obs) => {
      let next = state;
      let reading = false;
      if (curve !== null) {
        const p = curvePointAt(curve, obs.examples);
        if (p !== null && p.examples !== state.measuredAt) {
          next = { ...state, criticalBatchSize: p.criticalBatchSize, measuredAt: p.examples };
          reading = true;
        }
      } else {
        const c = obs.criticalBatchSize;
        if (c != null && Number.isFinite(c) && wants(state, obs)) {
          next = { ...state, criticalBatchSize: c, measuredAt: obs.examples };
          reading = true;
        }
      }
      const b = reading
        ? warmupBatchSize(next.batchSize, next.criticalBatchSize, factor, bMax, perReading)
        : next.batchSize;
      next = { ...next, batchSize: b };
      return { batchSize: b, lrFactor: lrFactor(b), state: next };
    },
  };
}
