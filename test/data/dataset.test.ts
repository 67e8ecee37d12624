import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ClassificationDataset,
  featureSize,
  gatherBatch,
  subset,
  validateClassificationDataset,
} from "../../lib/data";
import { assertDatasetError } from "./helpers";

/** 3 examples of shape [2]: example i has features [10i, 10i + 1] and label i. */
function toy(): ClassificationDataset {
  return {
    name: "toy",
    n: 3,
    featureShape: [2],
    numClasses: 3,
    features: Float32Array.of(0, 1, 10, 11, 20, 21),
    labels: Int32Array.of(0, 1, 2),
  };
}

test("featureSize is the product of the shape", () => {
  assert.equal(featureSize([28, 28, 1]), 784);
  assert.equal(featureSize([32, 32, 3]), 3072);
  assert.equal(featureSize([]), 1);
  assertDatasetError(() => featureSize([3, 0]), "featureShape [3, 0]", "got 0");
});

test("validateClassificationDataset accepts a valid dataset and returns it", () => {
  const ds = toy();
  assert.equal(validateClassificationDataset(ds), ds);
});

test("validateClassificationDataset rejects wrong lengths", () => {
  const ds = { ...toy(), features: new Float32Array(5) };
  assertDatasetError(() => validateClassificationDataset(ds), "toy", "5 values", "3·2 = 6");
  const ds2 = { ...toy(), labels: new Int32Array(2) };
  assertDatasetError(() => validateClassificationDataset(ds2), "toy", "2 entries", "n = 3");
});

test("a NaN or infinite feature names the dataset, example index and value", () => {
  const ds = toy();
  ds.features[3] = NaN; // example 1 (features 2..3), offset 1
  assertDatasetError(
    () => validateClassificationDataset(ds),
    "toy",
    "example 1",
    "NaN",
    "offset 1",
  );
  const ds2 = toy();
  ds2.features[4] = -Infinity; // example 2, offset 0
  assertDatasetError(() => validateClassificationDataset(ds2), "example 2", "-Infinity");
});

test("a label outside [0, numClasses) names the dataset, index and label", () => {
  const ds = toy();
  ds.labels[2] = 3;
  assertDatasetError(
    () => validateClassificationDataset(ds),
    "toy",
    "example 2",
    "label 3",
    "[0, 3)",
  );
  const ds2 = toy();
  ds2.labels[0] = -1;
  assertDatasetError(() => validateClassificationDataset(ds2), "example 0", "label -1");
});

test("gatherBatch copies rows in index order, repeats allowed", () => {
  const ds = toy();
  const { x, y } = gatherBatch(ds, Int32Array.of(2, 0, 2));
  // rows 2, 0, 2 → [20, 21], [0, 1], [20, 21]
  assert.deepEqual([...x], [20, 21, 0, 1, 20, 21]);
  assert.deepEqual([...y], [2, 0, 2]);
  x[0] = -5; // a copy: the dataset is untouched
  assert.equal(ds.features[4], 20);
  const empty = gatherBatch(ds, []);
  assert.equal(empty.x.length, 0);
  assert.equal(empty.y.length, 0);
});

test("gatherBatch rejects out-of-range and non-integer indices", () => {
  assertDatasetError(() => gatherBatch(toy(), [0, 3]), "toy", "indices[1] = 3", "[0, 3)");
  assertDatasetError(() => gatherBatch(toy(), [-1]), "indices[0] = -1");
  assertDatasetError(() => gatherBatch(toy(), [0.5]), "indices[0] = 0.5");
});

test("subset keeps the first n examples as an independent copy", () => {
  const ds = toy();
  const s = subset(ds, 2);
  assert.equal(s.n, 2);
  assert.equal(s.name, "toy[:2]");
  assert.deepEqual([...s.features], [0, 1, 10, 11]);
  assert.deepEqual([...s.labels], [0, 1]);
  validateClassificationDataset(s);
  s.features[0] = 9;
  assert.equal(ds.features[0], 0);
  assert.equal(subset(ds, 0).n, 0);
  assertDatasetError(() => subset(ds, 4), "subset(toy)", "[0, 3]", "got 4");
});
