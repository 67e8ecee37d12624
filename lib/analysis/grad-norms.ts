/**
 * Squared norms of mini-batch gradients at several batch sizes, at fixed weights — the data
 * behind the plot of E|G_B|² against 1/B (McCandlish, Kaplan, Amodei 2018, arXiv:1812.06162,
 * §2.2 and Fig. 3: a line with intercept |G|² and slope tr Σ) and behind the size of an SGD
 * update, |Δθ| = η|G_B|, as the batch grows.
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { epochPermutation } from "../data/sampler";
import { microBatchGradNorms } from "../grad/micro-batch";
import type { DataSource } from "../data/source";
import type { Task } from "../grad/task";
import { ConfigError } from "../core/errors";

/** Options of {@link gradNormSamples}. */
export interface GradNormSampleOptions {
  /** Batch sizes B to sample, integers ≥ 1, each ≤ `examplesPerSize` and ≤ the source's n. */
  batchSizes: readonly number[];
  /**
   * Examples drawn per batch size, M (integer ≥ 1; default 2048, at most n): ⌊M/B⌋ disjoint
   * batches of B give ⌊M/B⌋ samples of |G_B|². Cost ≈ one forward+backward pass over M
   * examples per batch size.
   */
  examplesPerSize?: number;
  /** Seed of the draw (each batch size gets its own permutation); default 0. */
  seed?: number;
  /** Examples per gradient call (bounds memory; rounded down to a multiple of B); default 512. */
  chunkSize?: number;
  /**
   * Largest micro-batch in one forward/backward pass (bounds memory), integer ≥ 1; default 256.
   * A batch of B above it is one sample whose gradient is accumulated over micro-batches.
   */
  maxMicroBatch?: number;
  /** Run the model in training mode (dropout, batch-norm batch statistics); default true. */
  training?: boolean;
}

/** One sample: the squared norm of the mean gradient of one batch of B examples. */
export interface GradNormSample {
  /** B. */
  batchSize: number;
  /** |G_B|². */
  gradSqNorm: number;
}

/** Per batch size: mean and standard error of the samples. */
export interface GradNormMean {
  /** B. */
  batchSize: number;
  /** Number of samples k = ⌊M/B⌋. */
  count: number;
  /** Mean of |G_B|² over the k samples (estimates E|G_B|²). */
  mean: number;
  /** Standard error of the mean, s/√k (0 when k = 1). */
  stdErr: number;
}

/**
 * Samples |G_B|² at fixed weights for each batch size B: M examples are drawn without
 * replacement (a seeded permutation of the source) and split into ⌊M/B⌋ disjoint batches of B;
 * each batch's mean-gradient squared norm is one sample. The weights are not changed. Memory is
 * bounded by `chunkSize` and `maxMicroBatch` examples per pass (a batch above `maxMicroBatch`
 * accumulates its gradient over micro-batches, as trainStep does).
 *
 * Formula: E|G_B|² = |G|² + tr(Σ)/B for independent draws (McCandlish et al. 2018, §2.2);
 * drawing B of n examples without replacement multiplies the second term by (n − B)/(n − 1)
 * (finite-population correction, lib/noise/finite-population.ts), under 2 % for B ≤ n/50.
 * Feed the samples (or the per-B means) to `gradNormLineFit` for the intercept |G|² and slope
 * tr Σ.
 *
 * @param model - A tfjs-layers model (its trainable variables are differentiated).
 * @param task - Its task (loss).
 * @param source - The examples (e.g. `classificationSource(train)`).
 * @param opts - Batch sizes, examples per size, seed, chunk size, training mode.
 * @returns `samples` (all, grouped by B in the order given) and `means` (one per B).
 * @throws Error if a batch size is not an integer in [1, min(M, n)], M or the chunk size is
 *   not an integer ≥ 1, or the source is empty.
 * @example
 * const { samples, means } = gradNormSamples(model, task, classificationSource(train), {
 *   batchSizes: [16, 64, 256], examplesPerSize: 1024 });
 * gradNormLineFit(samples); // { gradSqNorm: |G|², traceSigma: tr Σ, bSimple, … }
 */
export function gradNormSamples(
  model: tfl.LayersModel,
  task: Task,
  source: DataSource,
  opts: GradNormSampleOptions,
): { samples: GradNormSample[]; means: GradNormMean[] } {
  const n = source.n;
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`source.n must be an integer >= 1, got ${n}`);
  const M = Math.min(opts.examplesPerSize ?? 2048, n);
  if (!Number.isInteger(M) || M < 1) {
    throw new ConfigError(`examplesPerSize must be an integer >= 1, got ${opts.examplesPerSize}`);
  }
  const chunk = opts.chunkSize ?? 512;
  if (!Number.isInteger(chunk) || chunk < 1) {
    throw new ConfigError(`chunkSize must be an integer >= 1, got ${chunk}`);
  }
  const maxMicro = opts.maxMicroBatch ?? 256;
  if (!Number.isInteger(maxMicro) || maxMicro < 1) {
    throw new ConfigError(`maxMicroBatch must be an integer >= 1, got ${maxMicro}`);
  }
  if (opts.batchSizes.length === 0) throw new ConfigError("batchSizes must not be empty");
  for (const B of opts.batchSizes) {
    if (!Number.isInteger(B) || B < 1 || B > M) {
      throw new ConfigError(
        `batch sizes must be integers in [1, ${M}] (examplesPerSize and n = ${n}), got ${B}`,
      );
    }
  }
  const seed = opts.seed ?? 0;
  const samples: GradNormSample[] = [];
  const means: GradNormMean[] = [];
  opts.batchSizes.forEach((B, j) => {
    const k = Math.floor(M / B);
    const perm = epochPermutation(n, seed, j).subarray(0, k * B);
    const values: number[] = [];
    if (B <= maxMicro) {
      // Several batches per call: each micro-batch of B is one sample.
      const perCall = Math.max(1, Math.floor(chunk / B)) * B;
      for (let start = 0; start < perm.length; start += perCall) {
        const idx = perm.subarray(start, Math.min(perm.length, start + perCall));
        const rec = microBatchGradNorms(model, task, source.batch(idx), {
          microBatchSize: B,
          training: opts.training,
        });
        values.push(...rec.microBatchSqNorms);
      }
    } else {
      // One batch per call, its gradient accumulated over micro-batches of at most maxMicro.
      for (let start = 0; start < perm.length; start += B) {
        const rec = microBatchGradNorms(
          model,
          task,
          source.batch(perm.subarray(start, start + B)),
          {
            microBatchSize: maxMicro,
            training: opts.training,
          },
        );
        values.push(rec.gradSqNorm);
      }
    }
    for (const v of values) samples.push({ batchSize: B, gradSqNorm: v });
    const mean = values.reduce((p, q) => p + q, 0) / values.length;
    const variance =
      values.length > 1
        ? values.reduce((p, q) => p + (q - mean) * (q - mean), 0) / (values.length - 1)
        : 0;
    means.push({
      batchSize: B,
      count: values.length,
      mean,
      stdErr: Math.sqrt(variance / values.length),
    });
  });
  return { samples, means };
}
