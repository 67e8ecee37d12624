/**
 * AdaDamp (Sievert & Charles 2019, arXiv:1910.08222, Algorithm 1): the batch size grows as
 * the training loss falls, `B_k = ⌈B_0 (F(x_0) − F*) / (F(x_k) − F*)⌉`.
 */
import { capBatchSize, ceilBatch, MAX_BATCH, resolveMaxBatchSize } from "./cap";
import { recomputeDue, resolveRecompute, type RecomputeOptions } from "./dwell";
import { applyChangeThreshold, DEFAULT_CHANGE_THRESHOLD } from "./threshold";
import {
  BatchSchedule,
  ScheduleConfigError,
  requireInRange,
  requireInt,
  requireNumber,
} from "./types";

/** Parameters of {@link adaDampSchedule}. */
export interface AdaDampOptions extends RecomputeOptions {
  /** B_0, the batch size at x_0; integer ≥ 1. */
  initialBatchSize: number;
  /**
   * B_max, integer ≥ B_0. Above it the batch is capped and the step scaled by B_max/B_k.
   * Default: the training-set size n (the adadamp package's default), at least B_0.
   */
  maxBatchSize?: number;
  /**
   * Smallest batch size, integer in [1, B_0]; default 1 (Algorithm 1: B_k < B_0 whenever
   * F(x_k) > F(x_0)). Set it to B_0 when the step size is only safe for B ≥ B_0: a loss that
   * rises above F(x_0) otherwise shrinks the batch, which adds noise, which can raise the loss
   * further (a divergence seen on least squares with B_0 below the noise scale).
   */
  minBatchSize?: number;
  /** F*, the optimal training loss (an oracle), finite; default 0. */
  optimalLoss?: number;
  /**
   * Recompute B only at updates k with k mod dwell = 0 (once k ≥ wait); integer ≥ 1, default 1
   * (Algorithm 1), 20 under `preset: "adadamp"`.
   */
  dwell?: number;
  /**
   * Keep B = B_0 for the first `wait` updates; integer ≥ 0, default 0 (Algorithm 1), 100 under
   * `preset: "adadamp"`.
   */
  wait?: number;
  /**
   * Fraction of the training set (seeded, fixed by the loop) on which F is measured, in
   * (0, 1]; default 1 (the whole set). The package's `approx_loss=True` uses 0.1.
   */
  trainLossFraction?: number;
  /** Anti-flapping threshold (see {@link applyChangeThreshold}), ≥ 0; default 0.05. */
  changeThreshold?: number;
}

/** AdaDamp's state: plain JSON. */
export interface AdaDampState {
  /** F(x_0): the first training loss received; null before it. */
  initialLoss: number | null;
  /** The loss F(x_k) used at the last recomputation; null before the first. */
  lastTrainLoss: number | null;
  /** The uncapped B_k now in force (before the B_max cap), integer in [1, 2⁵³ − 1]. */
  batchSize: number;
  /** The step (model updates completed) of the last recomputation; null before the first. */
  lastRecomputeStep: number | null;
}

/**
 * AdaDamp's batch-size formula, uncapped:
 *
 * `B_k = ⌈B_0 (F(x_0) − F*) / (F(x_k) − F*)⌉` — Sievert & Charles (2019, arXiv:1910.08222),
 * Algorithm 1, lines 4–5 (`c = B_0 (F(x_0) − F*)`, `B_k = ⌈c / (F(x_k) − F*)⌉`).
 *
 * Departures (guards the paper does not need, since there F(x_k) > F* always):
 * - a loss at or below F* (`F(x_k) − F* ≤ 0`) means "at the optimum", where the formula's
 *   B_k → ∞: it returns 2⁵³ − 1, so the cap gives B = B_max and a learning-rate factor of
 *   B_max/(2⁵³ − 1) — finite, positive and (for any real B_max) negligible. It never divides
 *   by zero and never returns a negative batch;
 * - the result is clamped to [1, 2⁵³ − 1] (e.g. if F* > F(x_0), c ≤ 0 and B = 1);
 * - `⌈·⌉` ignores floating-point noise below 1e-9.
 *
 * @param initialBatchSize - B_0, integer ≥ 1.
 * @param initialLoss - F(x_0), finite.
 * @param loss - F(x_k), finite.
 * @param optimalLoss - F*, finite (default 0).
 * @returns The uncapped B_k, an integer in [1, 2⁵³ − 1].
 * @throws ScheduleConfigError if B_0 is not an integer ≥ 1 or a loss is not finite.
 * @example
 * ```ts
 * adaDampBatchSize(16, 2.0, 0.5); // ⌈16 · 2/0.5⌉ = 64
 * adaDampBatchSize(16, 2.0, 0.5, 0.25); // ⌈16 · 1.75/0.25⌉ = 112
 * adaDampBatchSize(16, 2.0, 0.0); // at F*: 2⁵³ − 1
 * ```
 */
export function adaDampBatchSize(
  initialBatchSize: number,
  initialLoss: number,
  loss: number,
  optimalLoss = 0,
): number {
  requireInt("initialBatchSize", initialBatchSize, 1);
  requireFinite("initialLoss", initialLoss);
  requireFinite("loss", loss);
  requireFinite("optimalLoss", optimalLoss);
  const gap = loss - optimalLoss;
  if (!(gap > 0)) return MAX_BATCH;
  return ceilBatch((initialBatchSize * (initialLoss - optimalLoss)) / gap);
}

function requireFinite(name: string, value: number): void {
  if (!Number.isFinite(value)) {
    throw new ScheduleConfigError(`${name} must be a finite number, got ${value}`);
  }
}

/**
 * AdaDamp: mini-batch SGD whose batch size dampens the gradient noise as the loss falls,
 *
 * `B_k = ⌈B_0 (F(x_0) − F*) / (F(x_k) − F*)⌉`; if `B_k > B_max`: `γ' = γ B_max / B_k`,
 * `B_k = B_max` — Sievert & Charles (2019, "Improving the convergence of SGD with adaptive
 * batch sizes", arXiv:1910.08222), Algorithm 1; the reference implementation is the adadamp
 * package's `AdaDamp` damper.
 *
 * How it runs in the loop: {@link BatchSchedule.wantsTrainLoss} returns true at step 0 and,
 * once `step ≥ wait`, at every step with `step mod dwell = 0` ({@link recomputeDue}, the
 * package's `BaseDamper.step` rule shared by every damper); the loop then puts
 * F(x_k) — the mean loss on the whole training set, or on the seeded fraction
 * `trainLossFraction` — in `obs.trainLoss`. The first loss received is F(x_0). At each such
 * step the schedule recomputes B_k (see {@link adaDampBatchSize}), keeps the old value when
 * the change is within `changeThreshold` (anti-flapping, {@link applyChangeThreshold}), and
 * caps it at B_max with `lrFactor = B_max/B_k` ({@link capBatchSize}). Between
 * recomputations B is held. A loss given at a step the schedule did not ask for is ignored;
 * a non-finite loss leaves the state unchanged.
 *
 * Departures from Algorithm 1: `dwell` and `wait` (the package's; Algorithm 1 is dwell = 1,
 * wait = 0, the defaults = `preset: "paper"`; `preset: "adadamp"` is the package's dwell = 20,
 * wait = 100; recomputations fall on multiples of dwell, as in the package — before issue 15
 * this schedule used `(step − wait) mod dwell = 0`, which differs when wait is not a multiple
 * of dwell); the anti-flapping threshold (set 0 for the exact
 * algorithm); the optional floor `minBatchSize` (default 1, i.e. none; the package's
 * `AdaDampNN(noisy=True)` floors at B_0); F from a fraction of the training set (the
 * package's `approx_loss`); the guards of {@link adaDampBatchSize} for F(x_k) ≤ F*; the
 * package ignores NaN losses by returning B = 1, this schedule keeps the current B.
 *
 * @param opts - See {@link AdaDampOptions}.
 * @returns A schedule named "adadamp" whose state is {@link AdaDampState}.
 * @throws ScheduleConfigError (naming the parameter and value) on B_0 < 1, B_max < B_0,
 *   minBatchSize outside [1, B_0], dwell < 1, wait < 0, an unknown preset, a non-finite F*,
 *   trainLossFraction outside (0, 1], or a negative changeThreshold.
 * @example
 * ```ts
 * const s = adaDampSchedule({ initialBatchSize: 32, maxBatchSize: 4096, dwell: 20 });
 * // F(x_0) = 2.3 at step 0 → B = 32; F(x_20) = 0.46 → B = ⌈32 · 2.3/0.46⌉ = 160.
 * ```
 */
export function adaDampSchedule(opts: AdaDampOptions): BatchSchedule<AdaDampState> {
  const b0 = opts.initialBatchSize;
  requireInt("initialBatchSize", b0, 1);
  if (opts.maxBatchSize !== undefined) requireInt("maxBatchSize", opts.maxBatchSize, b0);
  const bMin = opts.minBatchSize ?? 1;
  requireInt("minBatchSize", bMin, 1);
  if (bMin > b0) {
    throw new ScheduleConfigError(
      `minBatchSize must be an integer <= initialBatchSize (${b0}), got ${bMin}`,
    );
  }
  const fStar = opts.optimalLoss ?? 0;
  requireFinite("optimalLoss", fStar);
  const rule = resolveRecompute(opts);
  const wait = rule.wait;
  const fraction = opts.trainLossFraction ?? 1;
  requireInRange("trainLossFraction", fraction, 0, 1, { loOpen: true });
  const threshold = opts.changeThreshold ?? DEFAULT_CHANGE_THRESHOLD;
  requireNumber("changeThreshold", threshold, 0, true);

  const wantsTrainLoss = (state: AdaDampState, step: number): boolean =>
    state.initialLoss === null || recomputeDue(step, rule);

  return {
    name: "adadamp",
    trainLossFraction: fraction,
    init: () => ({
      initialLoss: null,
      lastTrainLoss: null,
      batchSize: b0,
      lastRecomputeStep: null,
    }),
    wantsTrainLoss,
    update: (state, obs) => {
      let next = state;
      const f = obs.trainLoss;
      if (f !== null && Number.isFinite(f) && wantsTrainLoss(state, obs.step)) {
        const f0 = state.initialLoss ?? f;
        // Before `wait` only F(x_0) is recorded; B stays B_0 (or its at-F* value).
        const recompute = state.initialLoss === null || obs.step >= wait;
        if (recompute) {
          const proposed = Math.max(bMin, adaDampBatchSize(b0, f0, f, fStar));
          next = {
            initialLoss: f0,
            lastTrainLoss: f,
            batchSize: applyChangeThreshold(state.batchSize, proposed, threshold),
            lastRecomputeStep: obs.step,
          };
        }
      }
      const bMax = resolveMaxBatchSize(opts.maxBatchSize, b0, obs.datasetSize);
      const capped = capBatchSize(next.batchSize, bMax);
      return { batchSize: capped.batchSize, lrFactor: capped.lrFactor, state: next };
    },
  };
}
