/**
 * The four benchmark models of ../shared/notes/wasm-training.md, with random data and one
 * Adam training step each.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { embeddingLm, gapCnn, mbconvBlockModel, mlp } from "../lib/models/small";
import { trainStepFlops } from "../lib/models/flops";
import { classificationTask, languageModelTask, Task } from "../lib/train/task";
import { StepBatch } from "../lib/train/step";

export interface BenchCase {
  name: string;
  batchSize: number;
  build(): { model: tfl.LayersModel; task: Task; batch: StepBatch; flops: number };
}

function randomImages(b: number, shape: number[], classes: number, seed: number): StepBatch {
  const n = b * shape.reduce((p, q) => p * q, 1);
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 4294967296;
  }
  const y = new Int32Array(b).map((_, i) => (i * 7 + seed) % classes);
  return { x, y, size: b };
}

export const BENCH_CASES: BenchCase[] = [
  {
    name: "CNN conv32-pool-conv64-gap-dense 28x28x1",
    batchSize: 64,
    build() {
      const model = gapCnn({ inputShape: [28, 28, 1], numClasses: 10 });
      return {
        model,
        task: classificationTask([28, 28, 1], 10),
        batch: randomImages(64, [28, 28, 1], 10, 1),
        flops: trainStepFlops(model, 64),
      };
    },
  },
  {
    name: "MLP 784-256-256-10",
    batchSize: 256,
    build() {
      const model = mlp({ inputShape: [784], numClasses: 10, hidden: [256, 256] });
      return {
        model,
        task: classificationTask([784], 10),
        batch: randomImages(256, [784], 10, 2),
        flops: trainStepFlops(model, 256),
      };
    },
  },
  {
    name: "MBConv+SE block 32x32x16",
    batchSize: 64,
    build() {
      const model = mbconvBlockModel({ inputShape: [32, 32, 16], numClasses: 10 });
      return {
        model,
        task: classificationTask([32, 32, 16], 10),
        batch: randomImages(64, [32, 32, 16], 10, 3),
        flops: trainStepFlops(model, 64),
      };
    },
  },
  {
    name: "embedding LM vocab 65 dim 64 ctx 64",
    batchSize: 128,
    build() {
      const ctx = 64;
      const model = embeddingLm({ vocabSize: 65, dim: 64, context: ctx });
      const n = 128 * ctx;
      const x = new Int32Array(n).map((_, i) => (i * 31) % 65);
      const y = new Int32Array(n).map((_, i) => (i * 17 + 3) % 65);
      return {
        model,
        task: languageModelTask(ctx, 65),
        batch: { x, y, size: 128 },
        flops: trainStepFlops(model, 128),
      };
    },
  },
];

/** Keeps `tf` referenced for callers that only import this module. */
export const tfVersion = tf.version_core;
