/**
 * Fashion-MNIST (Xiao, Rasul, Vollgraf 2017, arXiv:1708.07747): 70,000 grayscale 28×28
 * images of clothing in 10 classes, 60,000 train + 10,000 test, in MNIST's IDX format.
 * batchwise vendors the four gzip files under `data/fashion-mnist/` (see `data/README.md`).
 */
import * as fs from "fs";
import * as path from "path";
import { ClassificationDataset } from "./dataset";
import { DatasetError } from "../core/errors";
import { IdxArray, readIdx } from "./idx";

/** Class names of Fashion-MNIST, indexed by label. */
export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
] as const;

/** The standard file names, as distributed by Zalando Research. */
export const FASHION_MNIST_FILES = {
  trainImages: "train-images-idx3-ubyte.gz",
  trainLabels: "train-labels-idx1-ubyte.gz",
  testImages: "t10k-images-idx3-ubyte.gz",
  testLabels: "t10k-labels-idx1-ubyte.gz",
} as const;

/**
 * The vendored copy, `data/fashion-mnist/` at the repository root (resolved from this file's
 * location, so it works whatever the working directory, e.g. from `notebooks/`).
 */
export const DEFAULT_FASHION_MNIST_DIR = path.resolve(
  __dirname,
  "..",
  "..",
  "data",
  "fashion-mnist",
);

/** Options for {@link loadIdxClassification}. */
export interface IdxClassificationOptions {
  /** Dataset name for messages, e.g. `"fashion-mnist/train"`. */
  name: string;
  /** Number of classes; every label must lie in `[0, numClasses)`. */
  numClasses: number;
  /** Required image size `[height, width]`; omitted = any. */
  imageSize?: [number, number];
}

/**
 * Builds a classification dataset from an IDX image file (`uint8 [n, h, w]`) and an IDX
 * label file (`uint8 [n]`), e.g. MNIST or Fashion-MNIST; pixels scaled to `[0, 1]` as
 * `p / 255` in float32, featureShape `[h, w, 1]`.
 *
 * @param imagesPath - IDX image file (gzip or raw), dtype uint8, 3 dimensions.
 * @param labelsPath - IDX label file (gzip or raw), dtype uint8, 1 dimension.
 * @param options - Name, number of classes, and optionally the required `[h, w]`.
 * @returns The dataset (validated: labels in range).
 * @throws {DatasetError} Naming the file when it is missing or malformed, has the wrong
 *   dtype or rank, the wrong image size, when the image count differs from the label count,
 *   or a label is out of `[0, numClasses)` (naming the example index and label).
 * @example
 * ```ts
 * const test = loadIdxClassification("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
 *   { name: "mnist/test", numClasses: 10, imageSize: [28, 28] });
 * ```
 */
export function loadIdxClassification(
  imagesPath: string,
  labelsPath: string,
  options: IdxClassificationOptions,
): ClassificationDataset {
  const { name, numClasses, imageSize } = options;
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 256) {
    throw new DatasetError(`numClasses must be an integer in [1, 256], got ${numClasses}`);
  }
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  expectUint8(images, imagesPath, 3, "[n, height, width]");
  expectUint8(labels, labelsPath, 1, "[n]");
  const [n, h, w] = images.shape;
  if (imageSize !== undefined && (h !== imageSize[0] || w !== imageSize[1])) {
    throw new DatasetError(
      `${imagesPath}: images are ${h}×${w}, expected ${imageSize[0]}×${imageSize[1]}`,
    );
  }
  if (labels.shape[0] !== n) {
    throw new DatasetError(
      `${labelsPath}: has ${labels.shape[0]} labels but ${imagesPath} has ${n} images ` +
        `(counts must match)`,
    );
  }
  const y = new Int32Array(labels.data);
  for (let i = 0; i < n; i++) {
    if (y[i] >= numClasses) {
      throw new DatasetError(
        `${labelsPath} (dataset ${name}): example ${i} has label ${y[i]}, ` +
          `outside [0, ${numClasses})`,
      );
    }
  }
  const pixels = images.data;
  const x = new Float32Array(pixels.length);
  for (let j = 0; j < pixels.length; j++) x[j] = pixels[j] / 255;
  return { name, n, featureShape: [h, w, 1], numClasses, features: x, labels: y };
}

function expectUint8(a: IdxArray, file: string, rank: number, layout: string): void {
  if (a.dtype !== "uint8" || a.shape.length !== rank) {
    throw new DatasetError(
      `${file}: expected uint8 IDX data of shape ${layout}, got ${a.dtype} ` +
        `[${a.shape.join(", ")}]`,
    );
  }
}

/** `dir/name`, or `dir/name` without `.gz` when only the uncompressed file exists. */
function findFile(dir: string, gzName: string): string {
  const gz = path.join(dir, gzName);
  const raw = gz.replace(/\.gz$/, "");
  return !fs.existsSync(gz) && fs.existsSync(raw) ? raw : gz;
}

/**
 * Loads Fashion-MNIST's train and test sets from the four standard IDX files.
 *
 * Pixels `p ∈ {0..255}` become `p / 255 ∈ [0, 1]` (float32); featureShape `[28, 28, 1]`
 * (NHWC); labels `0..9`, named by {@link FASHION_MNIST_CLASSES}. Uncompressed copies
 * (the names without `.gz`) are used when the `.gz` file is absent. Takes about a second
 * (gunzip of 30 MB, then scaling 55M pixels); the result holds about 220 MB of float32.
 *
 * @param dir - Directory holding `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
 *   `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`; defaults to the vendored
 *   {@link DEFAULT_FASHION_MNIST_DIR}.
 * @returns `{train, test}`: 60,000 and 10,000 examples for the official files.
 * @throws {DatasetError} Naming the file when one is missing or malformed, when image and
 *   label counts differ, images are not 28×28, or a label is outside `[0, 10)`.
 * @example
 * ```ts
 * const { train, test } = loadFashionMnist();
 * train.n; // 60000
 * ```
 */
export function loadFashionMnist(dir: string = DEFAULT_FASHION_MNIST_DIR): {
  train: ClassificationDataset;
  test: ClassificationDataset;
} {
  if (typeof dir !== "string" || dir.length === 0) {
    throw new DatasetError(`loadFashionMnist: dir must be a non-empty string, got ${String(dir)}`);
  }
  const f = FASHION_MNIST_FILES;
  const opts = (split: string): IdxClassificationOptions => ({
    name: `fashion-mnist/${split}`,
    numClasses: FASHION_MNIST_CLASSES.length,
    imageSize: [28, 28],
  });
  const train = loadIdxClassification(
    findFile(dir, f.trainImages),
    findFile(dir, f.trainLabels),
    opts("train"),
  );
  const test = loadIdxClassification(
    findFile(dir, f.testImages),
    findFile(dir, f.testLabels),
    opts("test"),
  );
  return { train, test };
}
