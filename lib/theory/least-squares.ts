/**
 * A seeded, strongly convex least-squares problem in plain Float64 — the testbed on which
 * the theory table of Sievert & Charles (2019; seed 001) is checked: model updates and
 * examples that SGD, AdaDamp and gradient descent need to reach `F(x) − F* ≤ ε`.
 *
 * `F(x) = (1/2n) |A x − b|² = (1/n) Σ_i f_i(x)`, `f_i(x) = ½ (a_iᵀx − b_i)²`, with
 * `H = AᵀA/n` positive definite, so F is μ-strongly convex and L-smooth (μ, L the extreme
 * eigenvalues of H). No tensors: bookkeeping-sized numbers only (docs/design.md §4).
 */
import { ConfigError } from "../core/errors";
import { requireInt, requireNumber } from "../core/validate";
import { gaussianStream } from "./gaussian";
import { choleskySolve, symmetricEigenvalues } from "./linalg";

const requireNumberAtLeast = (name: string, v: number, min: number): void =>
  requireNumber(name, v, min, true);

/** Parameters of {@link makeLeastSquares}. */
export interface LeastSquaresOptions {
  /** Number of examples n, integer ≥ max(d, 2); default 10 000. */
  n?: number;
  /** Dimension d, integer ≥ 1; default 50. */
  d?: number;
  /** Seed of the data (any safe integer); default 0. */
  seed?: number;
  /** σ, standard deviation of the label noise, ≥ 0; default 1. */
  noise?: number;
  /**
   * κ ≥ 1: the column scales s_j are geometric with s_1² = 1 and s_d² = 1/κ, so H ≈ diag(s²)
   * has condition number ≈ κ; default 10.
   */
  conditionNumber?: number;
  /** Scale of the planted model: x*_j ~ N(0, signal²/d), so |x*| ≈ signal; default 1. */
  signal?: number;
}

/** A least-squares problem with its exact minimiser and constants. */
export interface LeastSquaresProblem {
  /** Number of examples n. */
  n: number;
  /** Dimension d. */
  d: number;
  /** A, n × d, row-major (row i is a_i). */
  A: Float64Array;
  /** b, length n: `b = A x_planted + σ ξ`, ξ ~ N(0, I). */
  b: Float64Array;
  /** The planted model used to make b. */
  xPlanted: Float64Array;
  /** The exact minimiser x̂ of F (normal equations `H x̂ = Aᵀb/n`, solved by Cholesky). */
  xOpt: Float64Array;
  /** F* = F(x̂). */
  fStar: number;
  /** H = AᵀA/n, d × d row-major. */
  H: Float64Array;
  /** c = Aᵀb/n, length d. */
  c: Float64Array;
  /** L = λ_max(H): the smoothness constant of F. */
  L: number;
  /** μ = λ_min(H): the strong-convexity constant of F. */
  mu: number;
  /** L_max = max_i |a_i|²: the largest per-example smoothness constant. */
  lMax: number;
}

/**
 * Makes the seeded least-squares problem
 *
 * `a_ij = s_j z_ij`, `z_ij ~ N(0, 1)`, `s_j² = κ^{−(j−1)/(d−1)}`; `x*_j ~ N(0, signal²/d)`;
 * `b = A x* + σ ξ`, `ξ ~ N(0, I)`; `F(x) = (1/2n)|Ax − b|²`.
 *
 * The exact minimiser solves the normal equations `H x̂ = c` (H = AᵀA/n, c = Aᵀb/n) by
 * Cholesky in Float64; F* = F(x̂) ≈ σ²(n − d)/(2n). μ and L are H's extreme eigenvalues
 * (Jacobi); L_max = max_i |a_i|².
 *
 * @param opts - See {@link LeastSquaresOptions}.
 * @returns The problem; the same seed and options give the same problem.
 * @throws Error naming the option and value if one is out of range.
 * @example
 * ```ts
 * const p = makeLeastSquares({ n: 10000, d: 50, seed: 1 });
 * lossGap(p, new Float64Array(p.d)); // F(0) − F*
 * ```
 */
export function makeLeastSquares(opts: LeastSquaresOptions = {}): LeastSquaresProblem {
  const d = opts.d ?? 50;
  const n = opts.n ?? 10000;
  const seed = opts.seed ?? 0;
  const sigma = opts.noise ?? 1;
  const kappa = opts.conditionNumber ?? 10;
  const signal = opts.signal ?? 1;
  requireInt("d", d, 1);
  requireInt("n", n, Math.max(d, 2));
  if (!Number.isSafeInteger(seed))
    throw new ConfigError(`seed must be a safe integer, got ${seed}`);
  requireNumberAtLeast("noise", sigma, 0);
  requireNumberAtLeast("conditionNumber", kappa, 1);
  requireNumberAtLeast("signal", signal, 0);

  const gauss = gaussianStream(seed);
  const scale = new Float64Array(d);
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(Math.pow(kappa, -(d > 1 ? j / (d - 1) : 0)));
  const xPlanted = new Float64Array(d);
  for (let j = 0; j < d; j++) xPlanted[j] = (signal / Math.sqrt(d)) * gauss();
  const A = new Float64Array(n * d);
  const b = new Float64Array(n);
  let lMax = 0;
  for (let i = 0; i < n; i++) {
    let dot = 0;
    let norm2 = 0;
    for (let j = 0; j < d; j++) {
      const v = scale[j] * gauss();
      A[i * d + j] = v;
      dot += v * xPlanted[j];
      norm2 += v * v;
    }
    b[i] = dot + sigma * gauss();
    if (norm2 > lMax) lMax = norm2;
  }
  const H = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) {
      const aij = A[row + j];
      c[j] += aij * b[i];
      for (let k = 0; k <= j; k++) H[j * d + k] += aij * A[row + k];
    }
  }
  for (let j = 0; j < d; j++) {
    c[j] /= n;
    for (let k = 0; k <= j; k++) {
      H[j * d + k] /= n;
      H[k * d + j] = H[j * d + k];
    }
  }
  const xOpt = choleskySolve(H, c);
  const ev = symmetricEigenvalues(H, d);
  const p: LeastSquaresProblem = {
    n,
    d,
    A,
    b,
    xPlanted,
    xOpt,
    fStar: 0,
    H,
    c,
    L: ev[d - 1],
    mu: ev[0],
    lMax,
  };
  p.fStar = loss(p, xOpt);
  return p;
}

/**
 * The training loss, computed directly: `F(x) = (1/2n) Σ_i (a_iᵀx − b_i)²`; O(nd).
 *
 * @param p - The problem.
 * @param x - The model, length d.
 * @returns F(x) ≥ F*.
 * @example loss(p, p.xOpt) === p.fStar
 */
export function loss(p: LeastSquaresProblem, x: Float64Array): number {
  const { n, d, A, b } = p;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let r = -b[i];
    const row = i * d;
    for (let j = 0; j < d; j++) r += A[row + j] * x[j];
    s += r * r;
  }
  return s / (2 * n);
}

/**
 * The suboptimality, exactly and in O(d²): `F(x) − F* = ½ (x − x̂)ᵀ H (x − x̂)` (an identity
 * for least squares, since ∇F(x̂) = 0 and F is quadratic with Hessian H). Free of the
 * cancellation that `loss(x) − F*` suffers near the optimum.
 *
 * @param p - The problem.
 * @param x - The model, length d.
 * @returns F(x) − F* ≥ 0.
 * @example lossGap(p, p.xOpt) // 0
 */
export function lossGap(p: LeastSquaresProblem, x: Float64Array): number {
  const { d, H, xOpt } = p;
  let s = 0;
  for (let j = 0; j < d; j++) {
    const ej = x[j] - xOpt[j];
    let hj = 0;
    for (let k = 0; k < d; k++) hj += H[j * d + k] * (x[k] - xOpt[k]);
    s += ej * hj;
  }
  return Math.max(0, s / 2);
}

/**
 * The full gradient `∇F(x) = H x − c = (1/n) Aᵀ(Ax − b)`; O(d²).
 *
 * @param p - The problem.
 * @param x - The model, length d.
 * @returns ∇F(x), length d.
 * @example fullGradient(p, p.xOpt) // ≈ 0
 */
export function fullGradient(p: LeastSquaresProblem, x: Float64Array): Float64Array {
  const { d, H, c } = p;
  const g = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let s = -c[j];
    for (let k = 0; k < d; k++) s += H[j * d + k] * x[k];
    g[j] = s;
  }
  return g;
}

/**
 * The mini-batch gradient and loss over `indices` (duplicates count twice):
 * `g_B = (1/B) Σ_{i∈batch} a_i (a_iᵀx − b_i)`, `ℓ_B = (1/2B) Σ (a_iᵀx − b_i)²`; O(Bd).
 *
 * @param p - The problem.
 * @param x - The model, length d.
 * @param indices - The batch, B ≥ 1 indices in [0, n).
 * @returns `{grad, loss}`.
 * @example batchGradient(p, x, Int32Array.from({ length: p.n }, (_, i) => i)) // = ∇F(x)
 */
export function batchGradient(
  p: LeastSquaresProblem,
  x: Float64Array,
  indices: Int32Array,
): { grad: Float64Array; loss: number } {
  const { d, A, b } = p;
  const g = new Float64Array(d);
  let l = 0;
  for (let t = 0; t < indices.length; t++) {
    const i = indices[t];
    const row = i * d;
    let r = -b[i];
    for (let j = 0; j < d; j++) r += A[row + j] * x[j];
    l += r * r;
    for (let j = 0; j < d; j++) g[j] += r * A[row + j];
  }
  const B = indices.length;
  for (let j = 0; j < d; j++) g[j] /= B;
  return { grad: g, loss: l / (2 * B) };
}

/**
 * The exact gradient noise at x (McCandlish et al. 2018, arXiv:1812.06162): the true
 * gradient's squared norm, the trace of the per-example gradient covariance (population
 * form, divisor n) and the simple noise scale,
 *
 * `|G|² = |∇F(x)|²`, `tr Σ = (1/n) Σ_i |∇f_i(x)|² − |G|²`, `B_simple = tr Σ / |G|²`,
 *
 * with `∇f_i(x) = a_i (a_iᵀx − b_i)`; O(nd). Useful as ground truth for noise-scale
 * estimators and to choose B_0.
 *
 * @param p - The problem.
 * @param x - The model, length d.
 * @returns `{gradSqNorm, traceSigma, bSimple}`; bSimple is null when |G|² = 0.
 * @example noiseScaleAt(p, new Float64Array(p.d)).bSimple // B_simple at x = 0
 */
export function noiseScaleAt(
  p: LeastSquaresProblem,
  x: Float64Array,
): { gradSqNorm: number; traceSigma: number; bSimple: number | null } {
  const { n, d, A, b } = p;
  let meanSq = 0;
  for (let i = 0; i < n; i++) {
    const row = i * d;
    let r = -b[i];
    let a2 = 0;
    for (let j = 0; j < d; j++) {
      r += A[row + j] * x[j];
      a2 += A[row + j] * A[row + j];
    }
    meanSq += r * r * a2;
  }
  meanSq /= n;
  const g = fullGradient(p, x);
  let g2 = 0;
  for (let j = 0; j < d; j++) g2 += g[j] * g[j];
  const traceSigma = meanSq - g2;
  return { gradSqNorm: g2, traceSigma, bSimple: g2 > 0 ? traceSigma / g2 : null };
}

/**
 * The expected smoothness of B-element sampling without replacement ("b-nice sampling"),
 *
 * `ℒ(B) = n(B − 1)/(B(n − 1)) · L + (n − B)/(B(n − 1)) · L_max`
 *
 * — Gower, Loizou, Qian, Sailanbayev, Shulgin & Richtárik (2019, "SGD: General Analysis and
 * Improved Rates", arXiv:1901.09401: the expected smoothness of "b-nice" sampling).
 * ℒ(1) = L_max, ℒ(n) = L; it decreases in B, so a step size chosen for B_0 suits every
 * B ≥ B_0. (Their SGD theorem asks γ ≤ 1/(2ℒ); bench/least-squares.ts uses γ = 1/ℒ(B_0),
 * which converged in all its runs while B ≥ B_0.)
 *
 * @param p - The problem.
 * @param batchSize - B, integer in [1, n].
 * @returns ℒ(B).
 * @example expectedSmoothness(p, p.n) === p.L
 */
export function expectedSmoothness(p: LeastSquaresProblem, batchSize: number): number {
  const { n, L, lMax } = p;
  const B = Math.min(Math.max(1, batchSize), n);
  return ((n * (B - 1)) / (B * (n - 1))) * L + ((n - B) / (B * (n - 1))) * lMax;
}
