/** Snapshot and restore of a model's weights around work that may change them (probes). */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";

/**
 * Runs `f` and restores every weight of `model` (trainable or not) afterwards, bit for bit,
 * also when `f` throws.
 *
 * Formula: snapshot θ₀ = clone(every weight), run f, assign θ₀ back (the same buffers, so the
 * values are identical bits).
 *
 * @param model - The model whose `weights` (trainable and non-trainable) are protected.
 * @param f - The work to run; may change the weights.
 * @returns What `f` returns.
 * @throws Whatever `f` throws (after restoring).
 * @example withWeightsRestored(model, () => trainStep(model, opt, task, batch, stepOpts));
 */
export function withWeightsRestored<T>(model: tfl.LayersModel, f: () => T): T {
  const vars = model.weights.map((w) => w.read() as tf.Variable);
  const saved = vars.map((v) => tf.clone(v));
  try {
    return f();
  } finally {
    vars.forEach((v, i) => v.assign(saved[i]));
    tf.dispose(saved);
  }
}

/** {@link withWeightsRestored} for asynchronous work. */
export async function withWeightsRestoredAsync<T>(
  model: tfl.LayersModel,
  f: () => Promise<T>,
): Promise<T> {
  const vars = model.weights.map((w) => w.read() as tf.Variable);
  const saved = vars.map((v) => tf.clone(v));
  try {
    return await f();
  } finally {
    vars.forEach((v, i) => v.assign(saved[i]));
    tf.dispose(saved);
  }
}
