/**
 * Evaluation outside the timed region of training: the mean loss and accuracy on a data source,
 * and the seeded subset on which F(x_k) is measured for schedules that ask for it.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ConfigError } from "../core/errors";
import { epochPermutation } from "../data/sampler";
import type { DataSource } from "../data/source";
import { batchTensors } from "../grad/batch";
import type { Task } from "../grad/task";

/** Mean loss and accuracy of `model` on every example of `data` (one synchronous read). */
export function evaluate(
  model: tfl.LayersModel,
  task: Task,
  data: DataSource,
  batchSize: number,
): { loss: number; accuracy: number } {
  const sums = evaluationSums(model, task, data, batchSize);
  const [ls, cs] = sums.dataSync();
  sums.dispose();
  return { loss: ls / data.n, accuracy: cs / data.n };
}

/**
 * {@link evaluate} with an asynchronous read (`await tensor.data()`), for backends that cannot
 * read synchronously (tfjs-backend-webgpu under Node); the same numbers. `trainLoop` uses this.
 */
export async function evaluateAsync(
  model: tfl.LayersModel,
  task: Task,
  data: DataSource,
  batchSize: number,
): Promise<{ loss: number; accuracy: number }> {
  const sums = evaluationSums(model, task, data, batchSize);
  try {
    const [ls, cs] = await sums.data();
    return { loss: ls / data.n, accuracy: cs / data.n };
  } finally {
    sums.dispose();
  }
}

/** [Σ loss, Σ correct] over every example of `data`, on the device. */
function evaluationSums(
  model: tfl.LayersModel,
  task: Task,
  data: DataSource,
  batchSize: number,
): tf.Tensor1D {
  let lossSum: tf.Scalar = tf.scalar(0);
  let correct: tf.Scalar = tf.scalar(0);
  for (let start = 0; start < data.n; start += batchSize) {
    const b = Math.min(batchSize, data.n - start);
    const idx = new Int32Array(b);
    for (let i = 0; i < b; i++) idx[i] = start + i;
    const batch = data.batch(idx);
    const [l, c] = tf.tidy(() => {
      const { x, y } = batchTensors(task, batch, 0, b);
      const r = task.evaluate(model, x, y);
      return [tf.add(lossSum, r.lossSum) as tf.Scalar, tf.add(correct, r.correct) as tf.Scalar];
    });
    lossSum.dispose();
    correct.dispose();
    lossSum = l;
    correct = c;
  }
  const both = tf.stack([lossSum, correct]) as tf.Tensor1D;
  tf.dispose([lossSum, correct]);
  return both;
}

/**
 * The fixed, seeded subset on which F(x_k) is measured for schedules that need the training
 * loss: the first ⌈fraction·n⌉ indices of a permutation drawn from the run's seed.
 * @throws ConfigError if fraction is not in (0, 1].
 */
export function probeSource(train: DataSource, fraction: number, seed: number): DataSource {
  if (!(fraction > 0 && fraction <= 1)) {
    throw new ConfigError(`trainLossFraction must be in (0, 1], got ${fraction}`);
  }
  if (fraction === 1) return train;
  const m = Math.max(1, Math.ceil(fraction * train.n));
  const idx = epochPermutation(train.n, seed + 0x9e3779b9, 0).subarray(0, m);
  return { n: m, batch: (indices) => train.batch(indices.map((i) => idx[i])) };
}
