/**
 * Test helpers for the noise estimators: a seeded Float64 Gaussian generator, and linear
 * regression as a batchwise Task (the label travels as the last input column, since
 * StepBatch labels are int32).
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { Task } from "../../lib/grad/task";
import type { StepBatch } from "../../lib/data/source";

/** Seeded uniforms in (0, 1) (mulberry32). */
export function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}

/** Seeded standard normals in Float64 (mulberry32 + Box–Muller). */
export function gaussian(seed: number): () => number {
  const u = uniform(seed);
  let spare: number | null = null;
  return () => {
    if (spare != null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(u()));
    const th = 2 * Math.PI * u();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
}

/**
 * Linear regression with per-example loss L = ½(xᵀw − y)²: input rows are [x_1 … x_d, y].
 * Labels ride in x because StepBatch.y is int32; y is a dummy zero per example.
 */
export function regressionTask(d: number): Task {
  const split = (x: tf.Tensor) => {
    const b = x.shape[0];
    const feats = tf.slice(x, [0, 0], [b, d]);
    const label = tf.reshape(tf.slice(x, [0, d], [b, 1]), [b]);
    return { feats, label, b };
  };
  const loss = (model: tfl.LayersModel, x: tf.Tensor, training: boolean) => {
    const { feats, label, b } = split(x);
    const pred = tf.reshape(model.apply(feats, { training }) as tf.Tensor, [b]);
    return tf.mul(0.5, tf.sum(tf.square(tf.sub(pred, label)))) as tf.Scalar;
  };
  return {
    kind: "classification",
    xDtype: "float32",
    xShape: [d + 1],
    yPerExample: 1,
    numClasses: 2,
    lossSum: (model, x, _y, training) => tf.tidy(() => loss(model, x, training)),
    evaluate: (model, x) =>
      tf.tidy(() => ({ lossSum: loss(model, x, false), correct: tf.scalar(0) })),
  };
}

/** A linear model xᵀw (one Dense unit, no bias) with weights w. */
export function linearModel(w: ArrayLike<number>): tfl.LayersModel {
  const d = w.length;
  const model = tfl.sequential({
    layers: [tfl.layers.dense({ units: 1, useBias: false, inputShape: [d] })],
  });
  tf.tidy(() => model.layers[0].setWeights([tf.tensor2d(Array.from(w), [d, 1])]));
  return model;
}

/**
 * B regression examples x ~ N(0, diag(scales²)), y = xᵀw* + ε, ε ~ N(0, σ²), as Float64 rows
 * [x, y] and as a StepBatch (float32).
 */
export function regressionBatch(
  rng: () => number,
  wStar: ArrayLike<number>,
  sigma: number,
  B: number,
  scales?: ArrayLike<number>,
): { rows: Float64Array; batch: StepBatch } {
  const d = wStar.length;
  const rows = new Float64Array(B * (d + 1));
  for (let i = 0; i < B; i++) {
    let y = 0;
    for (let k = 0; k < d; k++) {
      const v = rng() * (scales ? scales[k] : 1);
      rows[i * (d + 1) + k] = v;
      y += v * wStar[k];
    }
    rows[i * (d + 1) + d] = y + sigma * rng();
  }
  return {
    rows,
    batch: { x: Float32Array.from(rows), y: new Int32Array(B), size: B },
  };
}

/** Per-example gradients g_x = x(xᵀw − y) of the rows, in Float64 ([B][d]). */
export function exactGradients(rows: Float64Array, w: ArrayLike<number>): Float64Array[] {
  const d = w.length;
  const B = rows.length / (d + 1);
  const out: Float64Array[] = [];
  for (let i = 0; i < B; i++) {
    let r = -rows[i * (d + 1) + d];
    for (let k = 0; k < d; k++) r += rows[i * (d + 1) + k] * w[k];
    const g = new Float64Array(d);
    for (let k = 0; k < d; k++) g[k] = rows[i * (d + 1) + k] * r;
    out.push(g);
  }
  return out;
}

/** Relative error |a − b| / |b|. */
export function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}
