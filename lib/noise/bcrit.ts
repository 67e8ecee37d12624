/**
 * The critical batch size B_crit from a sweep of constant-batch runs that reach the same
 * target (McCandlish et al. 2018, §2.3 and App. A: "(S/S_min − 1)(E/E_min − 1) = 1",
 * B_crit = E_min/S_min).
 */
import { LineFit, fitLine } from "./linfit";
import { ConfigError } from "../core/errors";

/** One constant-batch run that reached the target. */
export interface SweepPoint {
  /** Batch size B (examples per step), > 0. */
  batchSize: number;
  /** Optimizer steps S to reach the target, > 0. */
  steps: number;
  /** Training examples E processed to reach it, > 0; default B·S. */
  examples?: number;
}

/** What {@link fitBCrit} reports. */
export interface BCritFit {
  /** S_min: steps needed with an infinitely large batch (intercept of S against 1/B). */
  sMin: number;
  /** E_min: examples needed with an infinitesimally small batch (slope of S against 1/B). */
  eMin: number;
  /** B_crit = E_min/S_min, examples. */
  bCrit: number;
  /** The primary fit S = S_min + E_min·(1/B): residuals in steps, R². */
  steps: LineFit;
  /**
   * The secondary fit E = E_min + S_min·B (the same law, least squares in examples):
   * its own S_min, E_min and B_crit (null when its intercept or slope is ≤ 0), residuals in
   * examples, R². Close agreement with the primary fit means the law describes the sweep.
   */
  examples: LineFit & { sMin: number; eMin: number; bCrit: number | null };
  /** Per point: the primary fit's predicted S and E = B·S at that B. */
  predicted: { batchSize: number; steps: number; examples: number }[];
}

/**
 * Fits S_min, E_min and B_crit to a batch-size sweep.
 *
 * Formula: with a constant batch, E = B·S, so the paper's trade-off
 * (S/S_min − 1)(E/E_min − 1) = 1 becomes S = S_min(1 + B_crit/B) = S_min + E_min·(1/B) and
 * E = E_min(1 + B/B_crit) = E_min + S_min·B. The primary estimate is ordinary least squares of
 * S on 1/B (intercept S_min, slope E_min, B_crit = E_min/S_min); the secondary fits E on B.
 * Departure: McCandlish et al. fit the (S, E) trade-off curve directly; for constant-batch runs
 * the two linear fits are the same law with different error weighting, and are exact on exact
 * data.
 *
 * @param points - At least 2 runs with distinct batch sizes; B, S (and E if given) > 0.
 * @returns {@link BCritFit}: S_min (steps), E_min (examples), B_crit (examples), both fits.
 * @throws Error for < 2 distinct batch sizes, non-positive or non-finite inputs, or a primary
 *   fit with S_min ≤ 0 or E_min ≤ 0 (the sweep does not follow the law; B_crit undefined).
 * @example
 * // S_min = 100, E_min = 10000 (B_crit = 100): S(B) = 100 + 10000/B
 * fitBCrit([{ batchSize: 50, steps: 300 }, { batchSize: 100, steps: 200 }, { batchSize: 400, steps: 125 }]);
 * // → { sMin: 100, eMin: 10000, bCrit: 100, … }
 */
export function fitBCrit(points: readonly SweepPoint[]): BCritFit {
  for (const [i, p] of points.entries()) {
    for (const [k, v] of [
      ["batchSize", p.batchSize],
      ["steps", p.steps],
      ["examples", p.examples ?? p.batchSize * p.steps],
    ] as const) {
      if (!(Number.isFinite(v) && v > 0)) {
        throw new ConfigError(`points[${i}].${k} must be a finite number > 0, got ${v}`);
      }
    }
  }
  const distinct = new Set(points.map((p) => p.batchSize)).size;
  if (distinct < 2) {
    throw new ConfigError(`need runs at >= 2 distinct batch sizes, got ${distinct}`);
  }
  const steps = fitLine(
    points.map((p) => 1 / p.batchSize),
    points.map((p) => p.steps),
  );
  const sMin = steps.intercept;
  const eMin = steps.slope;
  if (!(sMin > 0 && eMin > 0)) {
    throw new ConfigError(
      `the fit S = S_min + E_min/B gave S_min = ${sMin}, E_min = ${eMin}; both must be > 0 (steps must fall with B and level off)`,
    );
  }
  const ex = fitLine(
    points.map((p) => p.batchSize),
    points.map((p) => p.examples ?? p.batchSize * p.steps),
  );
  const exS = ex.slope;
  const exE = ex.intercept;
  return {
    sMin,
    eMin,
    bCrit: eMin / sMin,
    steps,
    examples: { ...ex, sMin: exS, eMin: exE, bCrit: exS > 0 && exE > 0 ? exE / exS : null },
    predicted: points.map((p) => {
      const s = sMin + eMin / p.batchSize;
      return { batchSize: p.batchSize, steps: s, examples: s * p.batchSize };
    }),
  };
}
