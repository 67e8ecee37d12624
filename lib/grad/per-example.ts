/**
 * Per-example squared gradient norms |∇L_x|² of a tfjs-layers model on a batch — the
 * B_small = 1 end of the noise-scale estimators (McCandlish et al. 2018, App. A.1) and the
 * numerator of gradient diversity (Yin et al. 2018).
 *
 * Two methods:
 * - `loop` (any model): one forward+backward pass per example at batch size 1. Same FLOPs as
 *   one batch-B backward pass, but B times the per-call overhead (kernel dispatch, small
 *   matmuls, weight re-packing). Measured on wasm + kernel pack, linear model, B = 256:
 *   loop 74 ms, dense 0.4 ms, one 4-micro-batch trainStep 2.7 ms.
 * - `dense` (Goodfellow 2015, "Efficient Per-Example Gradient Computations",
 *   arXiv:1510.01799): for a Sequential chain of Dense (+ Flatten, Activation, Dropout, …
 *   parameter-free) layers. A Dense layer z = a·W + b has per-example weight gradient a_x δ_xᵀ
 *   with δ_x = ∂L_x/∂z_x, so |∇_W L_x|² = |a_x|²·|δ_x|² and |∇_b L_x|² = |δ_x|² — no per-example
 *   gradient is materialised. δ comes from one backward pass of Σ_x L_x to zero offsets added
 *   to each z (its row x is ∂L_x/∂z_x because example x's loss depends only on row x). Cost:
 *   one forward + one backward pass without the weight-gradient matmuls, plus
 *   O(B·Σ_layers(fan_in + fan_out)) for the norms and O(Σ fan_in·fan_out·B) for |G_B|² —
 *   about one ordinary training step.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { StepBatch } from "../data/source";
import { trainableVariables } from "./batch";
import type { Task } from "../grad/task";
import type { MicroBatchNorms } from "./types";
import { batchTensors, checkBatch, sqNormOf } from "./batch";
import { ConfigError } from "../core/errors";

/** Which algorithm computes the per-example norms. */
export type PerExampleMethod = "auto" | "loop" | "dense";

/** Options of {@link perExampleGradSqNorms}. */
export interface PerExampleOptions {
  /** `auto` (default): `dense` when {@link denseTrickSupported}, else `loop`. */
  method?: PerExampleMethod;
  /** Run the model in training mode (dropout etc.), as trainStep does; default true. */
  training?: boolean;
}

/** Per-example norms in the micro-batch record format (every b_i = 1). */
export interface PerExampleNorms extends MicroBatchNorms {
  /** B. */
  batchSize: number;
  /** B ones. */
  microBatchSizes: number[];
  /** |∇L_x|² for each example x of the batch, in order. */
  microBatchSqNorms: number[];
  /** |G_B|² of the batch's mean gradient. */
  gradSqNorm: number;
  /** The method that ran. */
  method: "loop" | "dense";
}

// tfjs-layers keeps these as protected fields; read them through a structural view.
interface DenseView {
  kernel: { read(): tf.Tensor } | null;
  bias: { read(): tf.Tensor } | null;
  activation: { apply(t: tf.Tensor): tf.Tensor } | null;
  trainable: boolean;
}

const PARAMETER_FREE = new Set([
  "Flatten",
  "Activation",
  "Dropout",
  "ReLU",
  "LeakyReLU",
  "ELU",
  "Softmax",
  "Reshape",
  "InputLayer",
]);

function layerChain(model: tfl.LayersModel): tfl.layers.Layer[] | null {
  if (!(model instanceof tfl.Sequential)) return null;
  const layers = model.layers.filter((l) => l.getClassName() !== "InputLayer");
  for (const l of layers) {
    const c = l.getClassName();
    if (c === "Dense") continue;
    if (!PARAMETER_FREE.has(c) || l.weights.length > 0) return null;
  }
  return layers.some((l) => l.getClassName() === "Dense") ? layers : null;
}

/**
 * Whether the vectorised `dense` method applies: a `tfl.Sequential` whose layers are Dense
 * and parameter-free layers (Flatten, Activation, Dropout, ReLU, LeakyReLU, ELU, Softmax,
 * Reshape) only.
 * @param model - Any tfjs-layers model.
 * @returns true when {@link perExampleGradSqNorms} can use `method: "dense"`.
 * @example denseTrickSupported(mlp({ inputShape: [784], numClasses: 10 })); // true
 */
export function denseTrickSupported(model: tfl.LayersModel): boolean {
  return layerChain(model) != null;
}

/**
 * Squared norms of the per-example gradients ∇L_x (x in the batch) and of the batch's mean
 * gradient, with one device→host read.
 *
 * Formula: per example |∇_θ L_x|² = Σ_params (∂L_x/∂θ)² over the trainable variables (as
 * trainStep); `dense` uses |a_x|²·|δ_x|² + |δ_x|² per Dense layer (module comment);
 * |G_B|² = |(1/B)Σ_x ∇L_x|².
 *
 * Feed the result to {@link microBatchEstimate} for B_small = 1 estimates (then tr(Σ) is the
 * Bessel-corrected sample trace B/(B−1)·(mean|g_x|² − |G_B|²)), or to gradient diversity.
 *
 * @param model - tfjs-layers model producing what `task` expects.
 * @param task - The task (loss = task.lossSum of one example).
 * @param batch - B ≥ 1 examples.
 * @param opts - `method` (`auto` | `loop` | `dense`), `training` (default true).
 * @returns {@link PerExampleNorms}: B ones as sizes, the per-example |∇L_x|², |G_B|², method.
 * @throws Error for `method: "dense"` on an unsupported model (see
 *   {@link denseTrickSupported}) or a Dense layer with rank > 2 input; on a malformed batch.
 * @example
 * const r = perExampleGradSqNorms(model, task, batch);
 * microBatchEstimate(r); // |G|², tr Σ with B_small = 1
 */
export function perExampleGradSqNorms(
  model: tfl.LayersModel,
  task: Task,
  batch: StepBatch,
  opts: PerExampleOptions = {},
): PerExampleNorms {
  const method = opts.method ?? "auto";
  if (!["auto", "loop", "dense"].includes(method)) {
    throw new ConfigError(`method must be 'auto', 'loop' or 'dense', got '${method}'`);
  }
  const training = opts.training ?? true;
  const chain = layerChain(model);
  if (method === "dense" && chain == null) {
    throw new ConfigError(
      "method 'dense' needs a tfl.Sequential of Dense and parameter-free layers; use 'loop'",
    );
  }
  checkBatch(task, batch);
  const values =
    method === "loop" || chain == null
      ? loopNorms(model, task, batch, training)
      : denseNorms(chain, task, batch, training);
  return {
    batchSize: batch.size,
    microBatchSizes: new Array<number>(batch.size).fill(1),
    microBatchSqNorms: Array.from(values.subarray(1)),
    gradSqNorm: values[0],
    method: method === "loop" || chain == null ? "loop" : "dense",
  };
}

function loopNorms(
  model: tfl.LayersModel,
  task: Task,
  batch: StepBatch,
  training: boolean,
): Float32Array {
  const vars = trainableVariables(model);
  const B = batch.size;
  const norms: tf.Scalar[] = [];
  let sum: tf.NamedTensorMap | null = null;
  try {
    for (let j = 0; j < B; j++) {
      const prev: tf.NamedTensorMap | null = sum;
      const [n, next] = tf.tidy(() => {
        const { x, y } = batchTensors(task, batch, j, 1);
        const { grads } = tf.variableGrads(() => task.lossSum(model, x, y, training), vars);
        const acc: tf.NamedTensorMap =
          prev == null
            ? grads
            : Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.add(prev[k], g)]));
        return [sqNormOf(grads), acc] as [tf.Scalar, tf.NamedTensorMap];
      });
      norms.push(n);
      if (prev != null) tf.dispose(Object.values(prev));
      sum = next;
    }
    const out = tf.tidy(() =>
      tf.stack([tf.div(sqNormOf(sum as tf.NamedTensorMap), B * B), ...norms]),
    );
    const v = out.dataSync() as Float32Array;
    out.dispose();
    return v;
  } finally {
    tf.dispose(norms);
    if (sum != null) tf.dispose(Object.values(sum));
  }
}

function denseNorms(
  chain: tfl.layers.Layer[],
  task: Task,
  batch: StepBatch,
  training: boolean,
): Float32Array {
  const B = batch.size;
  const dense = chain.filter((l) => l.getClassName() === "Dense");
  const kept: tf.Tensor[] = [];
  try {
    const out = tf.tidy(() => {
      const { x, y } = batchTensors(task, batch, 0, B);
      const inputs: tf.Tensor[] = [];
      const forward = (input: tf.Tensor, offsets: tf.Tensor[]): tf.Tensor => {
        let h = input;
        let i = 0;
        for (const layer of chain) {
          if (layer.getClassName() !== "Dense") {
            h = layer.apply(h, { training }) as tf.Tensor;
            continue;
          }
          if (h.rank !== 2) {
            throw new ConfigError(
              `method 'dense' needs rank-2 inputs to Dense layers; layer '${layer.name}' gets rank ${h.rank}`,
            );
          }
          const d = layer as unknown as DenseView;
          inputs[i] = tf.keep(h);
          kept.push(inputs[i]);
          let z = tf.matMul(h, (d.kernel as { read(): tf.Tensor }).read());
          if (d.bias != null) z = tf.add(z, d.bias.read());
          z = tf.add(z, offsets[i]);
          h = d.activation != null ? d.activation.apply(z) : z;
          i++;
        }
        return h;
      };
      const zeros = dense.map((l) => tf.zeros([B, (l.getConfig() as { units: number }).units]));
      const deltas = tf.grads((...offsets: tf.Tensor[]) => {
        // Duck-typed model: tasks call model.apply(x, { training }) once on the model input.
        const proxy = { apply: (inp: tf.Tensor) => forward(inp, offsets) };
        return task.lossSum(proxy as unknown as tfl.LayersModel, x, y, training);
      })(zeros);
      const perExample: tf.Tensor[] = [];
      const batchSq: tf.Tensor[] = [];
      dense.forEach((layer, i) => {
        const d = layer as unknown as DenseView;
        if (!d.trainable) return; // trainStep differentiates trainable variables only
        const a = inputs[i];
        const delta = deltas[i];
        const d2 = tf.sum(tf.square(delta), 1);
        perExample.push(tf.mul(tf.sum(tf.square(a), 1), d2));
        batchSq.push(tf.sum(tf.square(tf.matMul(a, delta, true, false))));
        if (d.bias != null) {
          perExample.push(d2);
          batchSq.push(tf.sum(tf.square(tf.sum(delta, 0))));
        }
      });
      if (perExample.length === 0) throw new ConfigError("the model has no trainable Dense layer");
      const per = tf.addN(perExample);
      const big = tf.div(tf.addN(batchSq), B * B);
      return tf.concat([tf.reshape(big, [1]), per]);
    });
    const v = out.dataSync() as Float32Array;
    out.dispose();
    return v;
  } finally {
    tf.dispose(kept);
  }
}
