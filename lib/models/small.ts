/**
 * Small models for the main job, tests and benchmarks, built with tfjs-layers.
 * All classifiers output logits (no softmax); the training loop applies softmax
 * cross-entropy.
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { batchNormalization } from "./normalization";
import { ConfigError } from "../core/errors";

/** Options shared by the model builders. */
export interface ModelOptions {
  /** Input shape without the batch dimension, e.g. [28, 28, 1]. */
  inputShape: number[];
  /** Number of classes (logits per example); integer ≥ 2. */
  numClasses: number;
  /** Seed for the initial weights (glorot-uniform / he-normal initialisers). */
  seed?: number;
}

function check(opts: ModelOptions, rank: number, what: string): void {
  if (
    opts.inputShape.length !== rank ||
    opts.inputShape.some((d) => !Number.isInteger(d) || d < 1)
  ) {
    throw new ConfigError(
      `${what}: inputShape must be ${rank} positive integers, got [${opts.inputShape}]`,
    );
  }
  if (!Number.isInteger(opts.numClasses) || opts.numClasses < 2) {
    throw new ConfigError(`${what}: numClasses must be an integer >= 2, got ${opts.numClasses}`);
  }
}

const glorot = (seed?: number) => tfl.initializers.glorotUniform({ seed });
const he = (seed?: number) => tfl.initializers.heNormal({ seed });

/**
 * The main job's CNN: conv3×3-32 ReLU → maxpool 2 → conv3×3-64 ReLU → maxpool 2 → dense 128
 * ReLU → dense numClasses. For 28×28×1 inputs: 225,034 parameters,
 * ≈ 2.6 M multiply-adds per example forward.
 */
export function smallCnn(opts: ModelOptions): tfl.LayersModel {
  check(opts, 3, "smallCnn");
  const s = opts.seed ?? 0;
  return tfl.sequential({
    name: "small_cnn",
    layers: [
      tfl.layers.conv2d({
        inputShape: opts.inputShape,
        filters: 32,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: he(s + 1),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({
        filters: 64,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: he(s + 2),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 128, activation: "relu", kernelInitializer: he(s + 3) }),
      tfl.layers.dense({ units: opts.numClasses, kernelInitializer: glorot(s + 4) }),
    ],
  });
}

/**
 * The CNN of the benchmark notes: conv3×3-32 ReLU → maxpool 2 → conv3×3-64 ReLU → global
 * average pool → dense numClasses (19,466 parameters for 28×28×1 and 10 classes).
 */
export function gapCnn(opts: ModelOptions): tfl.LayersModel {
  check(opts, 3, "gapCnn");
  const s = opts.seed ?? 0;
  return tfl.sequential({
    name: "gap_cnn",
    layers: [
      tfl.layers.conv2d({
        inputShape: opts.inputShape,
        filters: 32,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: he(s + 1),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({
        filters: 64,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: he(s + 2),
      }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: opts.numClasses, kernelInitializer: glorot(s + 3) }),
    ],
  });
}

/**
 * Multi-layer perceptron: flatten → (dense h ReLU)* → dense numClasses.
 * @param hidden widths of the hidden layers, each an integer ≥ 1 (default [256, 256]).
 */
export function mlp(opts: ModelOptions & { hidden?: number[] }): tfl.LayersModel {
  if (!Number.isInteger(opts.numClasses) || opts.numClasses < 2) {
    throw new ConfigError(`mlp: numClasses must be an integer >= 2, got ${opts.numClasses}`);
  }
  const hidden = opts.hidden ?? [256, 256];
  for (const h of hidden) {
    if (!Number.isInteger(h) || h < 1)
      throw new ConfigError(`mlp: hidden widths must be integers >= 1, got ${h}`);
  }
  const s = opts.seed ?? 0;
  // Flatten needs rank ≥ 3 inputs (batch + ≥ 2 dims); flat inputs go straight to the dense layers.
  const layers: tfl.layers.Layer[] =
    opts.inputShape.length > 1 ? [tfl.layers.flatten({ inputShape: opts.inputShape })] : [];
  hidden.forEach((h, i) =>
    layers.push(
      tfl.layers.dense({
        units: h,
        activation: "relu",
        kernelInitializer: he(s + i + 1),
        ...(i === 0 && opts.inputShape.length === 1 ? { inputShape: opts.inputShape } : {}),
      }),
    ),
  );
  layers.push(tfl.layers.dense({ units: opts.numClasses, kernelInitializer: glorot(s + 99) }));
  return tfl.sequential({ name: "mlp", layers });
}

/**
 * One MBConv block with squeeze-and-excitation (EfficientNet's building block, Tan & Le 2019):
 * 1×1 expand (×6) → BN → swish → 3×3 depthwise → BN → swish → SE (ratio 0.25) → 1×1 project →
 * BN, with a residual connection; then global average pool → dense numClasses. Used by the
 * benchmark on 32×32×16 inputs.
 */
export function mbconvBlockModel(opts: ModelOptions & { expand?: number }): tfl.LayersModel {
  check(opts, 3, "mbconvBlockModel");
  const s = opts.seed ?? 0;
  const [, , c] = opts.inputShape;
  const e = c * (opts.expand ?? 6);
  const se = Math.max(1, Math.floor(c * 0.25));
  const input = tfl.input({ shape: opts.inputShape });
  let x = tfl.layers
    .conv2d({ filters: e, kernelSize: 1, useBias: false, kernelInitializer: he(s + 1) })
    .apply(input) as tfl.SymbolicTensor;
  x = batchNormalization().apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: "swish" }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .depthwiseConv2d({
      kernelSize: 3,
      padding: "same",
      useBias: false,
      depthwiseInitializer: he(s + 2),
    })
    .apply(x) as tfl.SymbolicTensor;
  x = batchNormalization().apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: "swish" }).apply(x) as tfl.SymbolicTensor;
  let g = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  g = tfl.layers.reshape({ targetShape: [1, 1, e] }).apply(g) as tfl.SymbolicTensor;
  g = tfl.layers
    .conv2d({ filters: se, kernelSize: 1, activation: "swish", kernelInitializer: he(s + 3) })
    .apply(g) as tfl.SymbolicTensor;
  g = tfl.layers
    .conv2d({ filters: e, kernelSize: 1, activation: "sigmoid", kernelInitializer: glorot(s + 4) })
    .apply(g) as tfl.SymbolicTensor;
  x = tfl.layers.multiply().apply([x, g]) as tfl.SymbolicTensor;
  x = tfl.layers
    .conv2d({ filters: c, kernelSize: 1, useBias: false, kernelInitializer: he(s + 5) })
    .apply(x) as tfl.SymbolicTensor;
  x = batchNormalization().apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.add().apply([x, input]) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({ units: opts.numClasses, kernelInitializer: glorot(s + 6) })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ name: "mbconv_block", inputs: input, outputs: out });
}

/**
 * Embedding language model (per-position, no attention): embedding [vocab, dim] → dense dim
 * ReLU → dense vocab, applied at each of the context positions. Input int32 [B, context];
 * output logits [B, context, vocab]. The benchmark's "embedding LM".
 */
export function embeddingLm(opts: {
  vocabSize: number;
  dim: number;
  context: number;
  seed?: number;
}): tfl.LayersModel {
  const { vocabSize, dim, context } = opts;
  for (const [k, v] of Object.entries({ vocabSize, dim, context })) {
    if (!Number.isInteger(v) || v < 1)
      throw new ConfigError(`embeddingLm: ${k} must be an integer >= 1, got ${v}`);
  }
  const s = opts.seed ?? 0;
  return tfl.sequential({
    name: "embedding_lm",
    layers: [
      tfl.layers.embedding({
        inputDim: vocabSize,
        outputDim: dim,
        inputLength: context,
        embeddingsInitializer: tfl.initializers.randomNormal({ stddev: 0.02, seed: s + 1 }),
      }),
      tfl.layers.dense({ units: dim, activation: "relu", kernelInitializer: he(s + 2) }),
      tfl.layers.dense({ units: vocabSize, kernelInitializer: glorot(s + 3) }),
    ],
  });
}

/** Total number of trainable and non-trainable parameters of a model. */
export function countParams(model: tfl.LayersModel): number {
  return model.weights.reduce((n, w) => n + w.shape.reduce((p: number, q) => p * (q ?? 1), 1), 0);
}
