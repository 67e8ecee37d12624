/** Adapters from datasets to the training loop's {@link DataSource}. */
import { ClassificationDataset, gatherBatch } from "../data/dataset";
import { lmBatch, lmWindowCount } from "../data/text";
import { DataSource } from "./loop";

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
