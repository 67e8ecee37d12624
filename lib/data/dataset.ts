/**
 * The in-memory classification dataset every reader returns, its validation, and fast batch
 * gathering. Plain typed arrays, no tfjs: the training loop turns a batch into tensors.
 */
import { DatasetError } from "../core/errors";

/**
 * A labelled classification dataset held in memory as plain, serialisable data.
 *
 * Example `i` has features `features.subarray(i·d, (i+1)·d)` with
 * `d = product(featureShape)` (row-major, e.g. NHWC for images) and label `labels[i]`.
 */
export interface ClassificationDataset {
  /** Name used in messages and logs, e.g. `"fashion-mnist/train"`. */
  name: string;
  /** Number of examples. */
  n: number;
  /** Shape of one example, e.g. `[28, 28, 1]` (height, width, channels). */
  featureShape: number[];
  /** Number of classes; labels lie in `[0, numClasses)`. */
  numClasses: number;
  /** `n·product(featureShape)` finite values, example-major, row-major within an example. */
  features: Float32Array;
  /** `n` integer labels in `[0, numClasses)`. */
  labels: Int32Array;
}

/** A batch gathered from a {@link ClassificationDataset}. */
export interface Batch {
  /** `B·product(featureShape)` features, in the order of the requested indices. */
  x: Float32Array;
  /** `B` labels. */
  y: Int32Array;
}

/**
 * Number of values in one example: `product(featureShape)`.
 *
 * @param featureShape - Shape of one example; each entry a positive integer.
 * @returns The product of the entries (1 for `[]`).
 * @throws {DatasetError} If an entry is not a positive integer.
 * @example
 * ```ts
 * featureSize([28, 28, 1]); // 784
 * ```
 */
export function featureSize(featureShape: readonly number[]): number {
  let d = 1;
  for (const s of featureShape) {
    if (!Number.isInteger(s) || s < 1) {
      throw new DatasetError(
        `featureShape [${featureShape.join(", ")}]: every entry must be a positive integer, ` +
          `got ${s}`,
      );
    }
    d *= s;
  }
  return d;
}

/**
 * Checks a dataset's invariants; returns it unchanged when they hold.
 *
 * Checks: `n` a non-negative integer, `numClasses` an integer ≥ 1, `featureShape` positive
 * integers, `features.length === n·product(featureShape)`, `labels.length === n`, every
 * feature finite, every label an integer in `[0, numClasses)`. One pass over the data (O(n·d)).
 *
 * @param ds - The dataset to check.
 * @returns `ds`, for chaining.
 * @throws {DatasetError} Naming the dataset and the first violation: for a non-finite
 *   feature the example index, the offset within the example and the value; for a bad label
 *   the example index and the label.
 * @example
 * ```ts
 * validateClassificationDataset({
 *   name: "toy", n: 2, featureShape: [1], numClasses: 2,
 *   features: Float32Array.of(0.5, 1), labels: Int32Array.of(0, 1),
 * });
 * ```
 */
export function validateClassificationDataset(ds: ClassificationDataset): ClassificationDataset {
  const name = typeof ds?.name === "string" ? ds.name : "<unnamed>";
  if (!Number.isInteger(ds.n) || ds.n < 0) {
    throw new DatasetError(`dataset ${name}: n must be a non-negative integer, got ${ds.n}`);
  }
  if (!Number.isInteger(ds.numClasses) || ds.numClasses < 1) {
    throw new DatasetError(
      `dataset ${name}: numClasses must be an integer >= 1, got ${ds.numClasses}`,
    );
  }
  if (!Array.isArray(ds.featureShape)) {
    throw new DatasetError(`dataset ${name}: featureShape must be an array of integers`);
  }
  const d = featureSize(ds.featureShape);
  if (!(ds.features instanceof Float32Array)) {
    throw new DatasetError(`dataset ${name}: features must be a Float32Array`);
  }
  if (!(ds.labels instanceof Int32Array)) {
    throw new DatasetError(`dataset ${name}: labels must be an Int32Array`);
  }
  if (ds.features.length !== ds.n * d) {
    throw new DatasetError(
      `dataset ${name}: features has ${ds.features.length} values, expected n·d = ` +
        `${ds.n}·${d} = ${ds.n * d} (featureShape [${ds.featureShape.join(", ")}])`,
    );
  }
  if (ds.labels.length !== ds.n) {
    throw new DatasetError(
      `dataset ${name}: labels has ${ds.labels.length} entries, expected n = ${ds.n}`,
    );
  }
  const f = ds.features;
  for (let j = 0; j < f.length; j++) {
    // `v - v` is NaN exactly when v is NaN or ±Infinity; cheaper than Number.isFinite.
    const v = f[j];
    if (v - v !== 0) {
      const i = Math.floor(j / d);
      throw new DatasetError(
        `dataset ${name}: example ${i} has a non-finite feature ${v} at offset ${j - i * d}`,
      );
    }
  }
  const y = ds.labels;
  for (let i = 0; i < y.length; i++) {
    const c = y[i];
    if (c < 0 || c >= ds.numClasses) {
      throw new DatasetError(
        `dataset ${name}: example ${i} has label ${c}, outside [0, ${ds.numClasses})`,
      );
    }
  }
  return ds;
}

/**
 * Copies the examples at `indices` into a contiguous batch (rows copied with
 * `TypedArray.set`/`subarray`, no per-value loop).
 *
 * @param ds - Source dataset.
 * @param indices - `B` example indices, each an integer in `[0, ds.n)`; repeats allowed;
 *   `B` may be 0.
 * @returns `{x, y}`: `x` of length `B·product(featureShape)`, `y` of length `B`, in the order
 *   of `indices`. Fresh arrays; modifying them does not touch `ds`.
 * @throws {DatasetError} Naming the dataset, the position and the value of the first index
 *   that is not an integer in `[0, ds.n)`.
 * @example
 * ```ts
 * const { x, y } = gatherBatch(ds, Int32Array.of(5, 0, 5));
 * ```
 */
export function gatherBatch(ds: ClassificationDataset, indices: ArrayLike<number>): Batch {
  const d = featureSize(ds.featureShape);
  const b = indices.length;
  const x = new Float32Array(b * d);
  const y = new Int32Array(b);
  const { features, labels, n } = ds;
  for (let k = 0; k < b; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new DatasetError(
        `gatherBatch(${ds.name}): indices[${k}] = ${i} is not an integer in [0, ${n})`,
      );
    }
    x.set(features.subarray(i * d, i * d + d), k * d);
    y[k] = labels[i];
  }
  return { x, y };
}

/**
 * The first `n` examples of a dataset, as an independent copy (for quick runs and tests).
 *
 * @param ds - Source dataset.
 * @param n - Number of examples to keep, an integer in `[0, ds.n]`.
 * @returns A new dataset named `` `${ds.name}[:${n}]` `` with copied features and labels.
 * @throws {DatasetError} If `n` is not an integer in `[0, ds.n]`.
 * @example
 * ```ts
 * const small = subset(train, 1000); // small.n === 1000
 * ```
 */
export function subset(ds: ClassificationDataset, n: number): ClassificationDataset {
  if (!Number.isInteger(n) || n < 0 || n > ds.n) {
    throw new DatasetError(`subset(${ds.name}): n must be an integer in [0, ${ds.n}], got ${n}`);
  }
  const d = featureSize(ds.featureShape);
  return {
    name: `${ds.name}[:${n}]`,
    n,
    featureShape: ds.featureShape.slice(),
    numClasses: ds.numClasses,
    features: ds.features.slice(0, n * d),
    labels: ds.labels.slice(0, n),
  };
}
