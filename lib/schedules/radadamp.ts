/**
 * RadaDamp (the adadamp package's `RadaDamp` damper): AdaDamp driven by rolling averages of
 * the mini-batch loss and squared gradient norm instead of the full training loss.
 */
import { capBatchSize, MAX_BATCH, resolveMaxBatchSize } from "./cap";
import { recomputeDue } from "./dwell";
import { applyChangeThreshold, DEFAULT_CHANGE_THRESHOLD } from "./threshold";
import { BatchSchedule, requireInRange, requireInt, requireNumber } from "./types";

/** Parameters of {@link radaDampSchedule}. */
export interface RadaDampOptions {
  /** B_0, integer ≥ 1. */
  initialBatchSize: number;
  /** B_max, integer ≥ B_0; default the training-set size n (at least B_0). */
  maxBatchSize?: number;
  /** ρ, the rolling average's memory, in [0, 1); default 0.999 (package default). */
  rho?: number;
  /** φ ("fudge"), weight of the loss against |g|², finite ≥ 0; default 0.01 (package). */
  fudge?: number;
  /** Warm-up updates at B_0 whose averages set the reference; integer ≥ 1, default 50. */
  wait?: number;
  /** Recompute B every `dwell` updates after the warm-up; integer ≥ 1, default 1. */
  dwell?: number;
  /** Anti-flapping threshold (see {@link applyChangeThreshold}), ≥ 0; default 0.05. */
  changeThreshold?: number;
}

/** RadaDamp's state: plain JSON. */
export interface RadaDampState {
  /** Warm-up: number of batches averaged so far. */
  count: number;
  /** Warm-up: sum of the batch losses ℓ_j. */
  lossSum: number;
  /** Warm-up: sum of the batch squared gradient norms |g_j|². */
  gradSum: number;
  /** L̄: the (rolling) average batch loss; null during the warm-up. */
  lossAvg: number | null;
  /** Ḡ: the (rolling) average batch |g|²; null during the warm-up. */
  gradAvg: number | null;
  /** c = φ·L̄_wait + Ḡ_wait, fixed at the end of the warm-up; null before. */
  initialFactor: number | null;
  /** The uncapped batch size now in force, integer in [1, 2⁵³ − 1]. */
  batchSize: number;
}

/**
 * RadaDamp ("rolling" AdaDamp): the batch grows as rolling averages of the mini-batch loss
 * and squared gradient norm fall,
 *
 * `B_k = ⌊B_0 · max(1, c / (φ L̄_k + Ḡ_k))⌋`, `c = φ L̄_wait + Ḡ_wait`,
 * `L̄_k = (1 − ρ) ℓ_{k−1} + ρ L̄_{k−dwell}`, `Ḡ_k = (1 − ρ) |g_{k−1}|² + ρ Ḡ_{k−dwell}`,
 *
 * then the AdaDamp cap (`B_k > B_max` → `B = B_max`, `lrFactor = B_max/B_k`).
 *
 * Source: the adadamp package (stsievert/adadamp, `adadamp/damping.py`, class `RadaDamp`,
 * the version with the `fudge` argument; not in the paper). What is implemented, with k =
 * model updates completed (`obs.step`), ℓ_{k−1} = `obs.lastLoss` and |g_{k−1}|² =
 * `obs.lastGradSqNorm` (the previous update's batch):
 * 1. warm-up, k ≤ wait: B = B_0; the losses and |g|² of the batches of updates 0 … wait−1
 *    are averaged (L̄, Ḡ) and, at k = wait, fix `c = φ L̄ + Ḡ`;
 * 2. then, at every k > wait with `k mod dwell = 0` ({@link recomputeDue}, the package's
 *    `BaseDamper.step` rule shared by every damper), fold the previous batch into
 *    the rolling averages and propose `⌊B_0 max(1, c/(φ L̄ + Ḡ))⌋`, accepted only if it
 *    differs from the current B by more than `changeThreshold` (anti-flapping);
 *    between recomputations B is held.
 *
 * Departures from the package: the warm-up mean divides the sum of the `wait` batches by
 * their number (the package sums 49 batches and divides by 50); the package's full-gradient
 * and 1 %-loss evaluations at k = 0 are dropped (they only seed values that the first
 * batch overwrites); `wait` is the warm-up length (the package's fixed `limit = 50`, the
 * default here; its `BaseDamper` `wait` only delays recomputation further); `dwell` defaults
 * to 1 (the package: 20; before issue 15 this schedule recomputed at `(k − wait) mod dwell =
 * 0`, now at `k mod dwell = 0` like the package); the
 * threshold (0 reproduces the package); a denominator ≤ 0 (zero loss and gradient: at the
 * optimum) gives the "unbounded" batch 2⁵³ − 1, i.e. B_max with a negligible lrFactor, like
 * AdaDamp at F*; a missing or non-finite batch statistic is skipped; `⌊·⌋` ignores
 * floating-point noise below 1e-9.
 *
 * @param opts - See {@link RadaDampOptions}.
 * @returns A schedule named "radadamp" whose state is {@link RadaDampState}.
 * @throws ScheduleConfigError (naming the parameter and value) on B_0 < 1, B_max < B_0,
 *   ρ outside [0, 1), φ < 0, wait < 1, dwell < 1 or a negative changeThreshold.
 * @example
 * ```ts
 * const s = radaDampSchedule({ initialBatchSize: 64, wait: 100 });
 * // when φL̄ + Ḡ falls to a quarter of its warm-up value, B = 256
 * ```
 */
export function radaDampSchedule(opts: RadaDampOptions): BatchSchedule<RadaDampState> {
  const b0 = opts.initialBatchSize;
  requireInt("initialBatchSize", b0, 1);
  if (opts.maxBatchSize !== undefined) requireInt("maxBatchSize", opts.maxBatchSize, b0);
  const rho = opts.rho ?? 0.999;
  requireInRange("rho", rho, 0, 1, { hiOpen: true });
  const fudge = opts.fudge ?? 0.01;
  requireNumber("fudge", fudge, 0, true);
  const wait = opts.wait ?? 50;
  requireInt("wait", wait, 1);
  const dwell = opts.dwell ?? 1;
  requireInt("dwell", dwell, 1);
  const threshold = opts.changeThreshold ?? DEFAULT_CHANGE_THRESHOLD;
  requireNumber("changeThreshold", threshold, 0, true);

  return {
    name: "radadamp",
    init: () => ({
      count: 0,
      lossSum: 0,
      gradSum: 0,
      lossAvg: null,
      gradAvg: null,
      initialFactor: null,
      batchSize: b0,
    }),
    update: (state, obs) => {
      const k = obs.step;
      const l = obs.lastLoss;
      const g = obs.lastGradSqNorm;
      const sample =
        k >= 1 && l !== null && g !== null && Number.isFinite(l) && Number.isFinite(g)
          ? { l, g }
          : null;
      let next = state;
      if (state.initialFactor === null) {
        // 1. warm-up: average the batches of updates 0 … wait−1.
        if (sample !== null && k <= wait) {
          next = {
            ...next,
            count: next.count + 1,
            lossSum: next.lossSum + sample.l,
            gradSum: next.gradSum + sample.g,
          };
        }
        if (k >= wait && next.count > 0) {
          const lossAvg = next.lossSum / next.count;
          const gradAvg = next.gradSum / next.count;
          next = { ...next, lossAvg, gradAvg, initialFactor: fudge * lossAvg + gradAvg };
        }
      } else if (sample !== null && k > wait && recomputeDue(k, { dwell, wait })) {
        // 2. rolling averages and the new batch size.
        const lossAvg = (1 - rho) * sample.l + rho * (state.lossAvg ?? sample.l);
        const gradAvg = (1 - rho) * sample.g + rho * (state.gradAvg ?? sample.g);
        const denom = fudge * lossAvg + gradAvg;
        let proposed: number;
        if (!(denom > 0)) proposed = MAX_BATCH;
        else {
          const raw = b0 * Math.max(1, state.initialFactor / denom);
          proposed = raw >= MAX_BATCH ? MAX_BATCH : Math.max(1, Math.floor(raw + 1e-9));
        }
        next = {
          ...state,
          lossAvg,
          gradAvg,
          batchSize: applyChangeThreshold(state.batchSize, proposed, threshold),
        };
      }
      const bMax = resolveMaxBatchSize(opts.maxBatchSize, b0, obs.datasetSize);
      const capped = capBatchSize(next.batchSize, bMax);
      return { batchSize: capped.batchSize, lrFactor: capped.lrFactor, state: next };
    },
  };
}
