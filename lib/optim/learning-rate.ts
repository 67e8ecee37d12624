/** Setting the learning rate and the weight decay of an optimizer between updates. */
import * as tf from "@tensorflow/tfjs-core";
import { OptimizerConfigError } from "./base";

/**
 * Sets an optimizer's learning rate (tfjs SGD/momentum use a setter, Adam and the batchwise
 * optimizers a field).
 * @param optimizer - Any tf.Optimizer.
 * @param lr - The learning rate of the next update (> 0; not checked here — trainStep's caller
 *   validates its configuration).
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as {
    setLearningRate?: (v: number) => void;
    learningRate?: number;
  };
  if (typeof o.setLearningRate === "function") o.setLearningRate(lr);
  else o.learningRate = lr;
}

/**
 * The decoupled weight decay λ of an optimizer that has one (AdamW, Lamb: a numeric
 * `weightDecay` field), else null (Adam, SGD, tfjs's optimizers).
 */
export function weightDecayOf(optimizer: tf.Optimizer): number | null {
  const wd = (optimizer as unknown as { weightDecay?: unknown }).weightDecay;
  return typeof wd === "number" ? wd : null;
}

/**
 * Sets the decoupled weight decay λ of the next update (AdamW, Lamb).
 * @param optimizer - An optimizer with a weight decay ({@link weightDecayOf} not null).
 * @param weightDecay - λ, finite and ≥ 0.
 * @throws OptimizerConfigError naming the optimizer when it has no weight decay, or the value
 *   when it is not finite and ≥ 0.
 */
export function setWeightDecay(optimizer: tf.Optimizer, weightDecay: number): void {
  if (weightDecayOf(optimizer) === null) {
    throw new OptimizerConfigError(
      `${optimizer.getClassName()} has no weight decay to set; use AdamW or Lamb`,
    );
  }
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) {
    throw new OptimizerConfigError(`weightDecay must be finite and >= 0, got ${weightDecay}`);
  }
  (optimizer as unknown as { weightDecay: number }).weightDecay = weightDecay;
}
