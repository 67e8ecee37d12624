/**
 * Ordinary least-squares fit of a straight line, with residuals and R² — the one fit behind
 * both `E|G_B|² = |G|² + tr(Σ)·(1/B)` (noise scale from many batch sizes) and
 * `S = S_min + E_min·(1/B)` (critical batch size from a sweep).
 */
import { ConfigError } from "../core/errors";

/** A fitted line `y ≈ intercept + slope·x` and how well it fits. */
export interface LineFit {
  /** Intercept a of `y = a + b·x`. */
  intercept: number;
  /** Slope b of `y = a + b·x`. */
  slope: number;
  /** Residuals `y_i − (a + b·x_i)`, in the order of the input points (units of y). */
  residuals: number[];
  /** Coefficient of determination `1 − SS_res/SS_tot`; 1 when SS_tot = 0 and the fit is exact. */
  r2: number;
  /** Root-mean-square residual `√(SS_res/n)` (units of y). */
  rmse: number;
}

/**
 * Fits `y = a + b·x` by ordinary least squares.
 *
 * Formula: `b = Σ(x_i − x̄)(y_i − ȳ) / Σ(x_i − x̄)²`, `a = ȳ − b·x̄` (centred sums, which
 * avoid the cancellation of the textbook `nΣxy − ΣxΣy` form), `R² = 1 − SS_res/SS_tot`.
 *
 * @param xs - Abscissae, finite numbers, at least 2 distinct values.
 * @param ys - Ordinates, finite numbers, same length as `xs`.
 * @returns The fitted intercept and slope, the residuals, R² and the RMS residual.
 * @throws Error if the lengths differ, a value is not finite, or `xs` has < 2 distinct values.
 * @example
 * fitLine([1, 2, 3], [3, 5, 7]); // { intercept: 1, slope: 2, residuals: [0, 0, 0], r2: 1, … }
 */
export function fitLine(xs: readonly number[], ys: readonly number[]): LineFit {
  if (xs.length !== ys.length) {
    throw new ConfigError(`fitLine: xs has ${xs.length} values but ys has ${ys.length}`);
  }
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) {
      throw new ConfigError(`fitLine: point ${i} is not finite (x ${xs[i]}, y ${ys[i]})`);
    }
  }
  if (new Set(xs).size < 2) {
    throw new ConfigError(`fitLine: need at least 2 distinct x values, got ${new Set(xs).size}`);
  }
  const n = xs.length;
  const xbar = xs.reduce((p, q) => p + q, 0) / n;
  const ybar = ys.reduce((p, q) => p + q, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - xbar;
    const dy = ys[i] - ybar;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const slope = sxy / sxx;
  const intercept = ybar - slope * xbar;
  const residuals = xs.map((x, i) => ys[i] - (intercept + slope * x));
  const ssRes = residuals.reduce((p, r) => p + r * r, 0);
  const r2 = syy > 0 ? 1 - ssRes / syy : 1;
  return { intercept, slope, residuals, r2, rmse: Math.sqrt(ssRes / n) };
}
