/**
 * Examples addressed by index — the training loop's and the gradient core's view of a dataset —
 * and adapters from the datasets of this layer to it.
 */
import { ClassificationDataset, gatherBatch } from "./dataset";
import { lmBatch, lmWindowCount } from "./text";

/** One batch of raw data: `x` holds B·prod(task.xShape) values, `y` B·task.yPerExample. */
export interface StepBatch {
  x: Float32Array | Int32Array;
  y: Int32Array;
  /** B, the number of examples. */
  size: number;
}

/** Examples addressed by index: the training loop's view of a dataset. */
export interface DataSource {
  /** Number of examples n (for a language model: number of windows). */
  readonly n: number;
  /** The examples at `indices`, laid out as the task expects. */
  batch(indices: Int32Array): StepBatch;
}

/** A classification dataset as a data source: batch(indices) gathers rows and labels. */
export function classificationSource(ds: ClassificationDataset): DataSource {
  return {
    n: ds.n,
    batch(indices) {
      const b = gatherBatch(ds, indices);
      return { x: b.x, y: b.y, size: indices.length };
    },
  };
}

/**
 * A token stream as a language-model data source: example i is the window
 * tokens[i … i+context) with targets tokens[i+1 … i+context].
 */
export function languageModelSource(tokens: Int32Array, context: number): DataSource {
  const n = lmWindowCount(tokens, context);
  return {
    n,
    batch(indices) {
      const b = lmBatch(tokens, indices, context);
      return { x: b.x, y: b.y, size: indices.length };
    },
  };
}
