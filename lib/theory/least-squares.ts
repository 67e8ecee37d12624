/**
 * A seeded, strongly convex least-squares problem in plain Float64 — the testbed on which
 * the theory table of Sievert & Charles (2019; seed 001) is checked: model updates and
 * examples that SGD, AdaDamp and gradient descent need to reach `F(x) − F* ≤ ε`.
 *
 * `F(x) = (1/2n) |A x − b|² = (1/n) Σ_i f_i(x)`, `f_i(x) = ½ (a_iᵀx − b_i)²`, with
 * `H = AᵀA/n` positive definite, so F is μ-strongly convex and L-smooth (μ, L the extreme
 * eigenvalues of H). No tensors: bookkeeping-sized numbers only (DESIGN.md §4).
 */
import { samplerInit, sampleBatch, SamplerState } from "../data/sampler";
import { BatchSchedule, Observation } from "../schedules/types";
import { ConfigError } from "../core/errors";

// pure-rand 8 publishes its modules only through package.json "exports" subpaths (see
// lib/data/sampler.ts): load by subpath, type via the lib/ files.
/* eslint-disable @typescript-eslint/no-require-imports */
type Xoroshiro = typeof import("pure-rand/lib/generator/xoroshiro128plus");
type UniformFloat64 = typeof import("pure-rand/lib/distribution/uniformFloat64");
const { xoroshiro128plus } = require("pure-rand/generator/xoroshiro128plus") as Xoroshiro;
const { uniformFloat64 } = require("pure-rand/distribution/uniformFloat64") as UniformFloat64;
/* eslint-enable @typescript-eslint/no-require-imports */

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

/** A seeded N(0, 1) stream (xoroshiro128+ and Box–Muller). */
function gaussianStream(seed: number): () => number {
  const rng = xoroshiro128plus(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u1 = 1 - uniformFloat64(rng); // (0, 1]
    const u2 = uniformFloat64(rng);
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min)
    throw new ConfigError(`${name} must be an integer >= ${min}, got ${v}`);
}

function checkNum(name: string, v: number, min: number): void {
  if (!(Number.isFinite(v) && v >= min))
    throw new ConfigError(`${name} must be a finite number >= ${min}, got ${v}`);
}

/**
 * Solves `M x = r` for symmetric positive definite M (d × d, row-major) by Cholesky,
 * `M = R Rᵀ`, then two triangular solves; O(d³/3).
 *
 * @param M - Symmetric positive definite, d × d.
 * @param r - Right-hand side, length d.
 * @returns x, length d.
 * @throws Error if M is not (numerically) positive definite.
 * @example choleskySolve(new Float64Array([4, 2, 2, 3]), new Float64Array([2, 1])) // [0.5, 0]
 */
export function choleskySolve(M: Float64Array, r: Float64Array): Float64Array {
  const d = r.length;
  const R = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = M[i * d + j];
      for (let k = 0; k < j; k++) s -= R[i * d + k] * R[j * d + k];
      if (i === j) {
        if (!(s > 0)) throw new ConfigError(`matrix is not positive definite (pivot ${i}: ${s})`);
        R[i * d + i] = Math.sqrt(s);
      } else {
        R[i * d + j] = s / R[j * d + j];
      }
    }
  }
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = r[i];
    for (let k = 0; k < i; k++) s -= R[i * d + k] * y[k];
    y[i] = s / R[i * d + i];
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < d; k++) s -= R[k * d + i] * x[k];
    x[i] = s / R[i * d + i];
  }
  return x;
}

/**
 * Eigenvalues of a symmetric matrix by the cyclic Jacobi method (Golub & Van Loan, "Matrix
 * Computations", the symmetric Jacobi method), ascending: rotations zero the off-diagonal
 * entries until their squared sum is below 1e-30 of the diagonal's; O(d³) per sweep.
 *
 * @param M - Symmetric, d × d row-major (not modified).
 * @param d - Dimension.
 * @returns The d eigenvalues, ascending.
 * @example symmetricEigenvalues(new Float64Array([2, 1, 1, 2]), 2) // [1, 3]
 */
export function symmetricEigenvalues(M: Float64Array, d: number): Float64Array {
  const a = Float64Array.from(M);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < d; i++) {
      diag += a[i * d + i] ** 2;
      for (let j = i + 1; j < d; j++) off += a[i * d + j] ** 2;
    }
    if (off <= 1e-30 * diag) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const cs = 1 / Math.sqrt(t * t + 1);
        const sn = t * cs;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = cs * akp - sn * akq;
          a[k * d + q] = sn * akp + cs * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = cs * apk - sn * aqk;
          a[q * d + k] = sn * apk + cs * aqk;
        }
      }
    }
  }
  const ev = new Float64Array(d);
  for (let i = 0; i < d; i++) ev[i] = a[i * d + i];
  return ev.sort();
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
  checkInt("d", d, 1);
  checkInt("n", n, Math.max(d, 2));
  if (!Number.isSafeInteger(seed))
    throw new ConfigError(`seed must be a safe integer, got ${seed}`);
  checkNum("noise", sigma, 0);
  checkNum("conditionNumber", kappa, 1);
  checkNum("signal", signal, 0);

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

/** Model updates and examples processed when `F − F* ≤ ε` first held (null: never). */
export interface ToleranceHit {
  /** ε. */
  epsilon: number;
  /** Model updates completed at the first x_k with F(x_k) − F* ≤ ε, or null. */
  updates: number | null;
  /** Examples processed by then, or null. */
  examples: number | null;
}

/** One update, as reported to {@link RunToToleranceOptions.onStep}. */
export interface StepInfo {
  /** Updates completed after this one. */
  updates: number;
  /** Examples processed after this one. */
  examples: number;
  /** The batch size used. */
  batchSize: number;
  /** The step size used (lr(k) · lrFactor). */
  stepSize: number;
  /** F(x_{k+1}) − F*. */
  gap: number;
}

/** Arguments of {@link runToTolerance}. */
export interface RunToToleranceOptions<S> {
  /** The problem. */
  problem: LeastSquaresProblem;
  /** Any batch-size schedule. */
  schedule: BatchSchedule<S>;
  /**
   * Base step size γ_k > 0: a number, or a function of the update index k (for SGD's
   * decaying step). The schedule's lrFactor multiplies it.
   */
  lr: number | ((k: number) => number);
  /** Tolerances ε > 0 to record. */
  epsilons: number[];
  /** Stop after this many examples (or when every ε is reached). */
  maxExamples: number;
  /** Stop after this many updates; default unbounded. */
  maxUpdates?: number;
  /** Seed of the epoch sampler; default 0. */
  seed?: number;
  /** Initial model x_0 (length d); default 0. */
  x0?: Float64Array;
  /** Called after every update. */
  onStep?: (info: StepInfo) => void;
}

/** What {@link runToTolerance} returns. */
export interface RunToToleranceResult {
  /** One entry per ε, in the order given. */
  hits: ToleranceHit[];
  /** Updates run in total. */
  updates: number;
  /** Examples processed in total. */
  examples: number;
  /** F(x) − F* at the end. */
  finalGap: number;
  /** Largest batch size used. */
  maxBatchSize: number;
  /** True if F(x) − F* became non-finite (the run stopped there). */
  diverged: boolean;
}

/**
 * Runs mini-batch SGD `x_{k+1} = x_k − γ_k · lrFactor_k · g_{B_k}(x_k)` on a least-squares
 * problem with the batch sizes a {@link BatchSchedule} picks, and records, for each ε, the
 * model updates and examples processed when `F(x_k) − F* ≤ ε` first holds (checked at x_0
 * and after every update).
 *
 * The schedule is driven like the training loop drives it: before update k it gets
 * `{step: k, epoch: examples/n, examples, datasetSize: n, lastLoss: ℓ_{B_{k−1}},
 * lastGradSqNorm: |g_{B_{k−1}}|², trainLoss, noise: null}`, where trainLoss = F(x_k),
 * computed exactly (`F* + ½ eᵀHe`, see {@link lossGap}) when `wantsTrainLoss(state, k)` is
 * true. The schedule's `trainLossFraction` is ignored (the exact loss costs only O(d²)).
 * Batches come from the library's seeded epoch sampler (without replacement, as in
 * `trainLoop`). A batch of exactly n that starts an epoch is the whole set, so its gradient
 * is the exact ∇F = Hx − c, computed in O(d²) (the same number up to rounding; the sampler
 * is advanced by one epoch without drawing the permutation).
 *
 * @param opts - See {@link RunToToleranceOptions}.
 * @returns See {@link RunToToleranceResult}.
 * @throws Error if an ε is not > 0, maxExamples < 1, or the step size is not finite.
 * @example
 * ```ts
 * const p = makeLeastSquares();
 * const r = runToTolerance({ problem: p, schedule: gdSchedule(), lr: 1 / p.L,
 *   epsilons: [1e-2], maxExamples: 1e8 });
 * r.hits[0].updates; // ≈ κ · ln(Δ_0/ε)
 * ```
 */
export function runToTolerance<S>(opts: RunToToleranceOptions<S>): RunToToleranceResult {
  const { problem: p, schedule, epsilons } = opts;
  for (const e of epsilons) if (!(e > 0)) throw new ConfigError(`epsilon must be > 0, got ${e}`);
  if (!(opts.maxExamples >= 1))
    throw new ConfigError(`maxExamples must be >= 1, got ${opts.maxExamples}`);
  const maxUpdates = opts.maxUpdates ?? Infinity;
  const lrAt =
    typeof opts.lr === "number"
      ? (
          (v: number) => () =>
            v
        )(opts.lr)
      : opts.lr;
  const { n, d } = p;
  const x = opts.x0 ? Float64Array.from(opts.x0) : new Float64Array(d);
  let sampler: SamplerState = samplerInit({ n, seed: opts.seed ?? 0 });
  let state = schedule.init();
  let k = 0;
  let examples = 0;
  let lastLoss: number | null = null;
  let lastGradSqNorm: number | null = null;
  let maxB = 0;
  let diverged = false;
  const hits: ToleranceHit[] = epsilons.map((epsilon) => ({
    epsilon,
    updates: null,
    examples: null,
  }));
  let gap = lossGap(p, x);
  const record = (): boolean => {
    let pending = false;
    for (const h of hits) {
      if (h.updates === null && gap <= h.epsilon) {
        h.updates = k;
        h.examples = examples;
      }
      if (h.updates === null) pending = true;
    }
    return pending;
  };
  let pending = record();
  while (pending && examples < opts.maxExamples && k < maxUpdates) {
    const trainLoss = schedule.wantsTrainLoss?.(state, k) ? p.fStar + gap : null;
    const obs: Observation = {
      step: k,
      epoch: examples / n,
      examples,
      datasetSize: n,
      lastLoss,
      lastGradSqNorm,
      trainLoss,
      noise: null,
    };
    const decision = schedule.update(state, obs);
    state = decision.state;
    const B = decision.batchSize;
    let grad: Float64Array;
    let batchLoss: number;
    if (B === n && sampler.position === 0) {
      grad = fullGradient(p, x);
      batchLoss = p.fStar + gap;
      sampler = { ...sampler, epoch: sampler.epoch + 1 };
    } else {
      const drawn = sampleBatch(sampler, B);
      sampler = drawn.state;
      ({ grad, loss: batchLoss } = batchGradient(p, x, drawn.indices));
    }
    const step = lrAt(k) * decision.lrFactor;
    if (!Number.isFinite(step)) throw new ConfigError(`step size at update ${k} is ${step}`);
    let g2 = 0;
    for (let j = 0; j < d; j++) {
      x[j] -= step * grad[j];
      g2 += grad[j] * grad[j];
    }
    k += 1;
    examples += B;
    maxB = Math.max(maxB, B);
    lastLoss = batchLoss;
    lastGradSqNorm = g2;
    gap = lossGap(p, x);
    opts.onStep?.({ updates: k, examples, batchSize: B, stepSize: step, gap });
    if (!Number.isFinite(gap)) {
      diverged = true;
      break;
    }
    pending = record();
  }
  return { hits, updates: k, examples, finalGap: gap, maxBatchSize: maxB, diverged };
}
