/** Setting the learning rate of any tfjs optimizer between updates. */
import * as tf from "@tensorflow/tfjs-core";

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
