/**
 * Per-layer simple noise scale (Gray, Samar, Hestness et al. 2024, "Normalization Layer
 * Per-Example Gradients are Sufficient to Predict Gradient Noise Scale in Transformers",
 * nanoGNS; docs/design.md §1): the micro-batch squared norms split by parameter group give
 * |G_l|² and tr(Σ_l) per layer, with Σ_l |G_l|² = |G|² and Σ_l tr(Σ_l) = tr(Σ), and
 * B_simple,l = tr(Σ_l)/|G_l|².
 */
import { ConfigError } from "../core/errors";
import { emaInit, emaRead, emaUpdate, type EmaState } from "./ema";
import { checkDatasetSize } from "./finite-population";
import { microBatchEstimate } from "./micro-batch-estimate";
import type { NoiseEstimate, NoiseObservation } from "./types";

/** One update's micro-batch norms split by trainable variable (a `StepResult` with `perVariable`). */
export interface PerVariableNorms {
  /** b_i, integers ≥ 1. */
  microBatchSizes: readonly number[];
  /** Variable names, the order of the vectors below. */
  variableNames: readonly string[];
  /** Per micro-batch i: |g_{i,v}|² for each variable v. */
  microBatchSqNormsByVariable: readonly (readonly number[])[];
  /** |G_{B,v}|² for each variable v. */
  gradSqNormByVariable: readonly number[];
}

/** Maps a variable name to its group (layer); default {@link layerOfVariable}. */
export type GroupOf = (variableName: string) => string;

/**
 * The layer a tfjs-layers variable belongs to: its name up to the last `/`
 * (`"dense_Dense1/kernel"` → `"dense_Dense1"`); a name without `/` is its own group.
 * @example layerOfVariable("conv2d_Conv2D1/bias") // "conv2d_Conv2D1"
 */
export function layerOfVariable(variableName: string): string {
  const cut = variableName.lastIndexOf("/");
  return cut <= 0 ? variableName : variableName.slice(0, cut);
}

/**
 * Sums per-variable values by group: `s_l = Σ_{v ∈ l} x_v`, groups in order of first appearance.
 * @param names - Variable names.
 * @param values - One value per name.
 * @param groupOf - Name → group; default {@link layerOfVariable}.
 * @returns `{groups, sums}`.
 * @throws ConfigError if the lengths differ.
 * @example groupSums(["a/k", "a/b", "c/k"], [1, 2, 4]) // { groups: ["a", "c"], sums: [3, 4] }
 */
export function groupSums(
  names: readonly string[],
  values: readonly number[],
  groupOf: GroupOf = layerOfVariable,
): { groups: string[]; sums: number[] } {
  if (names.length !== values.length) {
    throw new ConfigError(`values has ${values.length} entries but names has ${names.length}`);
  }
  const index = new Map<string, number>();
  const sums: number[] = [];
  names.forEach((n, i) => {
    const g = groupOf(n);
    let k = index.get(g);
    if (k === undefined) {
      k = sums.length;
      index.set(g, k);
      sums.push(0);
    }
    sums[k] += values[i];
  });
  return { groups: [...index.keys()], sums };
}

/**
 * Per-layer unbiased |G_l|² and tr(Σ_l) from one update: {@link microBatchEstimate} applied to
 * each group's norms `|g_{i,l}|² = Σ_{v∈l} |g_{i,v}|²`, `|G_{B,l}|² = Σ_{v∈l} |G_{B,v}|²`. The
 * estimator is linear in the squared norms, so the layers' estimates sum to the global one.
 *
 * @param rec - The update's per-variable norms.
 * @param opts - `datasetSize` (finite-population correction, as {@link microBatchEstimate}),
 *   `groupOf`.
 * @returns Group → estimate, or null with a single micro-batch.
 * @throws ConfigError on inconsistent lengths.
 * @example
 * perLayerEstimate({ microBatchSizes: [2, 2], variableNames: ["a/k", "b/k"],
 *   microBatchSqNormsByVariable: [[1, 2], [3, 4]], gradSqNormByVariable: [1.5, 2.5] });
 * // a: |G|² = (16·1.5 − 4·1 − 4·3)/8 = 1, tr Σ = (4·1 + 4·3 − 8·1)/4 = 2
 * // b: |G|² = (16·2.5 − 4·2 − 4·4)/8 = 2, tr Σ = (4·2 + 4·4 − 8·2)/4 = 2
 */
export function perLayerEstimate(
  rec: PerVariableNorms,
  opts: { datasetSize?: number; groupOf?: GroupOf } = {},
): Record<string, NoiseEstimate> | null {
  const k = rec.microBatchSizes.length;
  if (rec.microBatchSqNormsByVariable.length !== k) {
    throw new ConfigError(
      `microBatchSqNormsByVariable has ${rec.microBatchSqNormsByVariable.length} rows but microBatchSizes has ${k}`,
    );
  }
  if (k < 2) return null;
  const groupOf = opts.groupOf ?? layerOfVariable;
  const total = groupSums(rec.variableNames, rec.gradSqNormByVariable, groupOf);
  const perMicro = rec.microBatchSqNormsByVariable.map(
    (row) => groupSums(rec.variableNames, row, groupOf).sums,
  );
  const out: Record<string, NoiseEstimate> = {};
  total.groups.forEach((g, j) => {
    const est = microBatchEstimate(
      {
        microBatchSizes: rec.microBatchSizes,
        microBatchSqNorms: perMicro.map((row) => row[j]),
        gradSqNorm: total.sums[j],
      },
      opts.datasetSize != null ? { datasetSize: opts.datasetSize } : {},
    );
    if (est !== null) out[g] = est;
  });
  return out;
}

/** State of {@link perLayerNoiseEstimator}: plain JSON. */
export interface PerLayerNoiseState {
  /** Per group: the EMAs of |G_l|² and tr(Σ_l). */
  groups: Record<string, { gradSqNorm: EmaState; traceSigma: EmaState }>;
  /** Updates seen. */
  updates: number;
}

/** A per-layer noise-scale estimator: a pure state machine like `noiseScaleEstimator`. */
export interface PerLayerNoiseEstimator {
  init(): PerLayerNoiseState;
  /** Absorbs one update's per-variable norms; records without them are skipped. Pure. */
  update(state: PerLayerNoiseState, rec: Partial<PerVariableNorms>): PerLayerNoiseState;
  /** Group → EMA estimates and B_simple,l (null where the |G_l|² average ≤ 0). Pure. */
  read(state: PerLayerNoiseState): Record<string, NoiseObservation>;
}

/**
 * Per-layer B_simple as the ratio of bias-corrected EMAs of {@link perLayerEstimate}'s
 * per-update |G_l|² and tr(Σ_l) — the same "ratio of averages" and guards as
 * `noiseScaleEstimator` (lib/noise/noise-scale-estimator.ts), per group:
 *
 * `B_simple,l = max(0, m̂(tr Σ_l)/m̂(|G_l|²))` if m̂(|G_l|²) > 0, else null.
 *
 * @param opts - `beta` in [0, 1) (default 0.99), `datasetSize` (integer ≥ 2) or omitted,
 *   `groupOf` (default {@link layerOfVariable}).
 * @returns `{init, update, read}`.
 * @throws ConfigError on an invalid beta or datasetSize.
 * @example
 * const est = perLayerNoiseEstimator({ beta: 0.9 });
 * let s = est.update(est.init(), stepResult); // trainStep(..., { perVariable: true })
 * est.read(s)["dense_Dense1"].bSimple;
 */
export function perLayerNoiseEstimator(
  opts: { beta?: number; datasetSize?: number; groupOf?: GroupOf } = {},
): PerLayerNoiseEstimator {
  const beta = opts.beta ?? 0.99;
  emaInit(beta);
  if (opts.datasetSize != null) checkDatasetSize(opts.datasetSize);
  return {
    init: () => ({ groups: {}, updates: 0 }),
    update(state, rec) {
      const updates = state.updates + 1;
      if (
        rec.variableNames == null ||
        rec.microBatchSqNormsByVariable == null ||
        rec.gradSqNormByVariable == null ||
        rec.microBatchSizes == null
      ) {
        return { ...state, updates };
      }
      const est = perLayerEstimate(rec as PerVariableNorms, {
        datasetSize: opts.datasetSize,
        groupOf: opts.groupOf,
      });
      if (est === null) return { ...state, updates };
      const groups = { ...state.groups };
      for (const [g, e] of Object.entries(est)) {
        if (!Number.isFinite(e.gradSqNorm) || !Number.isFinite(e.traceSigma)) continue;
        const prev = groups[g] ?? { gradSqNorm: emaInit(beta), traceSigma: emaInit(beta) };
        groups[g] = {
          gradSqNorm: emaUpdate(prev.gradSqNorm, e.gradSqNorm),
          traceSigma: emaUpdate(prev.traceSigma, e.traceSigma),
        };
      }
      return { groups, updates };
    },
    read(state) {
      const out: Record<string, NoiseObservation> = {};
      for (const [g, s] of Object.entries(state.groups)) {
        const gs = emaRead(s.gradSqNorm);
        const tr = emaRead(s.traceSigma);
        if (gs == null || tr == null) continue;
        out[g] = { gradSqNorm: gs, traceSigma: tr, bSimple: gs > 0 ? Math.max(0, tr / gs) : null };
      }
      return out;
    },
  };
}
