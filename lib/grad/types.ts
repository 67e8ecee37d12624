/**
 * The records the gradient core produces: per micro-batch squared gradient norms (the input of
 * every noise-scale estimator in lib/noise) and what one model update measured.
 */

/** One update's gradient norms (McCandlish et al. 2018, App. A.1: micro-batches are the "small" batches). */
export interface MicroBatchNorms {
  /** Sizes b_i of the micro-batches, integers ≥ 1. */
  microBatchSizes: readonly number[];
  /** |g_i|² of each micro-batch's mean gradient, same order, ≥ 0. */
  microBatchSqNorms: readonly number[];
  /** |G_B|² of the whole batch's mean gradient G_B = Σ (b_i/B) g_i. */
  gradSqNorm: number;
  /** B = Σ b_i; optional (checked when given). */
  batchSize?: number;
}

/** What one model update measured. All numbers come from one device→host read. */
export interface StepResult {
  /** Mean training loss over the batch (before the update). */
  loss: number;
  /** Sizes b_i of the micro-batches (sum = B). */
  microBatchSizes: number[];
  /** |g_i|² of each micro-batch's mean gradient, in the same order. */
  microBatchSqNorms: number[];
  /** |G_B|² of the whole batch's mean gradient (the one applied). */
  gradSqNorm: number;
  /** With per-variable norms: the trainable variables' names (order of the vectors below). */
  variableNames?: string[];
  /** With per-variable norms: per micro-batch, |g_{i,v}|² for each variable v. */
  microBatchSqNormsByVariable?: number[][];
  /** With per-variable norms: |G_{B,v}|² for each variable v. */
  gradSqNormByVariable?: number[];
}
