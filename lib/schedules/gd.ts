/** Gradient descent as a batch-size schedule: the whole training set every update. */
import { fixedSchedule, type FixedSchedule } from "./fixed";

/**
 * Gradient descent: `B_k = n` for every update k (n = `obs.datasetSize`), learning rate
 * unchanged. With the loop's epoch sampler (without replacement) each batch is one whole
 * epoch, so the gradient is the exact ∇F(x_k).
 *
 * Source: the "gradient descent" column of the theory table of Sievert & Charles (2019,
 * arXiv:1910.08222; seed 001) and the adadamp package's `GradientDescent` damper.
 *
 * @returns A stateless schedule named "gd".
 * @example
 * ```ts
 * gdSchedule().update({}, obs).batchSize; // obs.datasetSize
 * ```
 */
export function gdSchedule(): FixedSchedule {
  return fixedSchedule("gd", (obs) => ({
    batchSize: Math.max(1, Math.floor(obs.datasetSize)),
    lrFactor: 1,
  }));
}
