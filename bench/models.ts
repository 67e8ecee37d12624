/**
 * The benchmark models: the four of docs/notes/wasm-training.md, plus EfficientNet-B0
 * at 32×32×3 and the GPT char LM at context 128 — random data and one Adam training step each.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { embeddingLm, gapCnn, mbconvBlockModel, mlp, smallCnn } from "../lib/models/small";
import { efficientNetB0 } from "../lib/models/efficientnet";
import { gptForwardFlops, gptLm, type GptOptions } from "../lib/models/gpt";
import { kernelPackRegistered } from "../lib/backend/kernels";
import { trainStepFlops } from "../lib/models/flops";
import { classificationTask, languageModelTask, Task } from "../lib/grad/task";
import { StepBatch } from "../lib/data/source";

export interface BenchCase {
  name: string;
  batchSize: number;
  build(): { model: tfl.LayersModel; task: Task; batch: StepBatch; flops: number };
  /**
   * Why this case is not measured on the current backend (null: measure it). `build()` then
   * returns a task whose loss throws `skipped: <reason>` at once, so a runner that does not
   * know about `skip` records the case as not measured instead of running for an hour.
   */
  skip?: () => string | null;
}

/** Raised (at the first loss evaluation) by a case skipped on the current backend. */
export class BenchSkipped extends Error {
  override name = "BenchSkipped";
}

/** `task`, or a copy whose loss throws {@link BenchSkipped} when `reason()` is not null. */
function skippable(task: Task, reason: () => string | null): Task {
  const why = reason();
  if (why == null) return task;
  const fail = (): never => {
    throw new BenchSkipped(`skipped: ${why}`);
  };
  return { ...task, lossSum: fail, evaluate: fail };
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
    // The main job's model (cli/main.ts compare): conv32-pool-conv64-pool-dense128.
    name: "main-job CNN (smallCnn) 28x28x1",
    batchSize: 64,
    build() {
      const model = smallCnn({ inputShape: [28, 28, 1], numClasses: 10 });
      return {
        model,
        task: classificationTask([28, 28, 1], 10),
        batch: randomImages(64, [28, 28, 1], 10, 5),
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
  (() => {
    const c: BenchCase = {
      // Tan & Le 2019 B0 (Keras layout, 4,062,374 parameters with 10 classes), drop-connect
      // and dropout active as in training. The cpu backend finishes a step (≈ 2 min
      // measured), so no case is skipped there; stock wasm fails at once (missing kernels).
      name: "EfficientNet-B0 32x32x3",
      batchSize: 64,
      build() {
        const model = efficientNetB0({ inputShape: [32, 32, 3], numClasses: 10 });
        return {
          model,
          task: classificationTask([32, 32, 3], 10),
          batch: randomImages(64, [32, 32, 3], 10, 4),
          flops: trainStepFlops(model, 64),
        };
      },
    };
    return c;
  })(),
  (() => {
    // 4 layers, 4 heads, width 128, vocabulary 65 (tiny Shakespeare), context 128:
    // 826,433 parameters; FLOPs from gptForwardFlops (matmuls + both T×T attention products).
    const cfg: GptOptions = { vocabSize: 65, context: 128, layers: 4, heads: 4, width: 128 };
    // Stock wasm cannot train it (UnsortedSegmentSum, the embedding gradient, is missing)
    // and would spend minutes in tfjs-core's Tile gradient before failing. The cpu backend
    // finishes (≈ 2 min/step measured), so it is measured.
    const skip = () =>
      tf.getBackend() === "wasm" && !kernelPackRegistered()
        ? "stock wasm lacks UnsortedSegmentSum"
        : null;
    const c: BenchCase = {
      name: "GPT char LM ctx 128 (L4 h4 d128)",
      batchSize: 64,
      skip,
      build() {
        const model = gptLm({ ...cfg, seed: 1 });
        const n = 64 * cfg.context;
        const x = new Int32Array(n).map((_, i) => (i * 31) % 65);
        const y = new Int32Array(n).map((_, i) => (i * 17 + 3) % 65);
        return {
          model,
          task: skippable(languageModelTask(cfg.context, 65), skip),
          batch: { x, y, size: 64 },
          flops: 3 * gptForwardFlops(cfg) * 64,
        };
      },
    };
    return c;
  })(),
];

/** Keeps `tf` referenced for callers that only import this module. */
export const tfVersion = tf.version_core;
