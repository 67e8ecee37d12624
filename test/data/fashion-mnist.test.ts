import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import {
  DEFAULT_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_FILES,
  encodeIdx,
  loadFashionMnist,
  validateClassificationDataset,
} from "../../lib/data";
import { assertDatasetError, makeTempDir, removeDir } from "./helpers";

const tmp = makeTempDir("fmnist");
after(() => removeDir(tmp));

interface FakeSplit {
  images: Uint8Array;
  dims: [number, number, number];
  labels: Uint8Array;
}

/** Writes the four gzip IDX files of a fake Fashion-MNIST into a new directory. */
function writeFake(name: string, train: FakeSplit, test: FakeSplit): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const write = (file: string, dtype: "uint8", shape: number[], data: Uint8Array) =>
    fs.writeFileSync(path.join(dir, file), zlib.gzipSync(encodeIdx({ dtype, shape, data })));
  const f = FASHION_MNIST_FILES;
  write(f.trainImages, "uint8", train.dims, train.images);
  write(f.trainLabels, "uint8", [train.labels.length], train.labels);
  write(f.testImages, "uint8", test.dims, test.images);
  write(f.testLabels, "uint8", [test.labels.length], test.labels);
  return dir;
}

function split(n: number, labels: number[], h = 28, w = 28): FakeSplit {
  const images = new Uint8Array(n * h * w);
  images[0] = 255; // → 1
  images[1] = 51; // → 51/255 = 0.2
  images[h * w] = 102; // first pixel of example 1 → 0.4
  return { images, dims: [n, h, w], labels: Uint8Array.from(labels) };
}

test("a small fake Fashion-MNIST loads with pixels scaled to [0, 1]", () => {
  const dir = writeFake("ok", split(3, [0, 9, 4]), split(2, [1, 1]));
  const { train, test } = loadFashionMnist(dir);
  assert.equal(train.name, "fashion-mnist/train");
  assert.equal(train.n, 3);
  assert.equal(test.n, 2);
  assert.deepEqual(train.featureShape, [28, 28, 1]);
  assert.equal(train.numClasses, 10);
  assert.equal(train.features.length, 3 * 784);
  assert.equal(train.features[0], 1);
  assert.equal(train.features[1], Math.fround(0.2));
  assert.equal(train.features[784], Math.fround(0.4));
  assert.equal(train.features[2], 0);
  assert.deepEqual([...train.labels], [0, 9, 4]);
  validateClassificationDataset(train);
  validateClassificationDataset(test);
});

test("uncompressed files are used when the .gz files are absent", () => {
  const dir = writeFake("raw", split(1, [3]), split(1, [2]));
  for (const f of Object.values(FASHION_MNIST_FILES)) {
    const gz = path.join(dir, f);
    fs.writeFileSync(gz.replace(/\.gz$/, ""), zlib.gunzipSync(fs.readFileSync(gz)));
    fs.rmSync(gz);
  }
  const { train } = loadFashionMnist(dir);
  assert.deepEqual([...train.labels], [3]);
});

test("image count != label count is an error naming both files", () => {
  const dir = writeFake("mismatch", split(3, [0, 1]), split(1, [0]));
  const labels = path.join(dir, FASHION_MNIST_FILES.trainLabels);
  const images = path.join(dir, FASHION_MNIST_FILES.trainImages);
  assertDatasetError(() => loadFashionMnist(dir), labels, "2 labels", images, "3 images");
});

test("images that are not 28×28 are an error naming the file", () => {
  const dir = writeFake("dims", split(1, [0], 27, 28), split(1, [0]));
  const images = path.join(dir, FASHION_MNIST_FILES.trainImages);
  assertDatasetError(() => loadFashionMnist(dir), images, "27×28", "expected 28×28");
});

test("a label outside 0..9 is an error naming the file, index and label", () => {
  const dir = writeFake("labels", split(1, [0]), split(3, [0, 5, 10]));
  const labels = path.join(dir, FASHION_MNIST_FILES.testLabels);
  assertDatasetError(() => loadFashionMnist(dir), labels, "example 2", "label 10", "[0, 10)");
});

test("a wrong dtype or rank is an error naming the file", () => {
  const dir = writeFake("rank", split(1, [0]), split(1, [0]));
  const labels = path.join(dir, FASHION_MNIST_FILES.trainLabels);
  fs.writeFileSync(
    labels,
    zlib.gzipSync(encodeIdx({ dtype: "int32", shape: [1], data: Int32Array.of(0) })),
  );
  assertDatasetError(() => loadFashionMnist(dir), labels, "expected uint8", "int32 [1]");
});

test("a missing file is an error naming it", () => {
  const dir = path.join(tmp, "empty");
  fs.mkdirSync(dir);
  assertDatasetError(
    () => loadFashionMnist(dir),
    path.join(dir, FASHION_MNIST_FILES.trainImages),
    "cannot read",
  );
});

test("the vendored Fashion-MNIST: 60,000 + 10,000 28×28 images, balanced classes", () => {
  const { train, test } = loadFashionMnist(DEFAULT_FASHION_MNIST_DIR);
  assert.equal(FASHION_MNIST_CLASSES.length, 10);
  assert.equal(train.n, 60000);
  assert.equal(test.n, 10000);
  assert.deepEqual(train.featureShape, [28, 28, 1]);
  assert.equal(train.features.length, 60000 * 784);
  assert.equal(test.features.length, 10000 * 784);
  // Fashion-MNIST is balanced: 6,000 train and 1,000 test images per class.
  const count = (labels: Int32Array) => {
    const c = new Array<number>(10).fill(0);
    for (const l of labels) c[l] += 1;
    return c;
  };
  assert.deepEqual(count(train.labels), new Array(10).fill(6000));
  assert.deepEqual(count(test.labels), new Array(10).fill(1000));
  // Pixels p/255: range exactly [0, 1] (both 0 and 255 occur).
  let min = Infinity;
  let max = -Infinity;
  for (const v of train.features) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  // The first training image is labelled 9 (ankle boot), as in the official README.
  assert.equal(train.labels[0], 9);
  assert.equal(FASHION_MNIST_CLASSES[train.labels[0]], "Ankle boot");
});
