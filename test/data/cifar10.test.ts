import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import * as tar from "tar";
import {
  CIFAR10_DIR_NAME,
  CIFAR10_RECORD_BYTES,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  cifar10Available,
  downloadCifar10,
  loadCifar10,
  parseCifar10Batch,
  readCifar10Batch,
  validateClassificationDataset,
} from "../../lib/data";
import { assertDatasetError, assertRejectsDatasetError, makeTempDir, removeDir } from "./helpers";

const tmp = makeTempDir("cifar");

/**
 * One CIFAR-10 record: label byte, then the R, G, B planes (1024 bytes each, row-major 32×32).
 * Pixel p = 32·row + col gets R = p mod 256, G = (label·10 + seedByte) mod 256,
 * B = 255 − (p mod 256).
 */
function record(label: number, seedByte = 0): Uint8Array {
  const r = new Uint8Array(CIFAR10_RECORD_BYTES);
  r[0] = label;
  for (let p = 0; p < 1024; p++) {
    r[1 + p] = p % 256;
    r[1 + 1024 + p] = (label * 10 + seedByte) % 256;
    r[1 + 2048 + p] = 255 - (p % 256);
  }
  return r;
}

function batch(labels: number[], seedByte = 0): Buffer {
  return Buffer.concat(labels.map((l) => record(l, seedByte)));
}

/** Writes six 2-record batch files into `dir`: batch k (1..5) has labels [k, k+4], test [0, 9]. */
function writeBatches(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  CIFAR10_TRAIN_FILES.forEach((f, i) =>
    fs.writeFileSync(path.join(dir, f), batch([i + 1, i + 5], i)),
  );
  fs.writeFileSync(path.join(dir, CIFAR10_TEST_FILE), batch([0, 9], 7));
  fs.writeFileSync(path.join(dir, "batches.meta.txt"), "airplane\nautomobile\n");
}

test("records are decoded from planar RGB to NHWC, scaled to [0, 1]", () => {
  const ds = parseCifar10Batch(batch([3, 7]), "two");
  assert.equal(ds.n, 2);
  assert.deepEqual(ds.featureShape, [32, 32, 3]);
  assert.equal(ds.numClasses, 10);
  assert.deepEqual([...ds.labels], [3, 7]);
  const x = ds.features;
  // Example 0, pixel (row 0, col 0): R = 0, G = 30/255, B = 255/255.
  assert.deepEqual([...x.subarray(0, 3)], [0, Math.fround(30 / 255), 1]);
  // Example 0, pixel (row 1, col 19): p = 51 → R = 51/255 = 0.2, B = 204/255 = 0.8.
  const o = (1 * 32 + 19) * 3;
  assert.deepEqual([...x.subarray(o, o + 3)], [0.2, 30 / 255, 0.8].map(Math.fround));
  // Example 1, pixel (row 31, col 31): p = 1023 → R = 255 → 1, G = 70/255, B = 0.
  const o2 = 3072 + 1023 * 3;
  assert.deepEqual([...x.subarray(o2, o2 + 3)], [1, Math.fround(70 / 255), 0]);
  validateClassificationDataset(ds);
});

test("a file size that is not a multiple of 3073 is a truncation error naming the file", () => {
  const file = path.join(tmp, "short.bin");
  fs.writeFileSync(file, batch([1, 2]).subarray(0, 2 * CIFAR10_RECORD_BYTES - 5));
  assertDatasetError(
    () => readCifar10Batch(file),
    file,
    "truncated",
    "6141 bytes",
    "1 whole records + 3068 bytes",
  );
  const empty = path.join(tmp, "empty.bin");
  fs.writeFileSync(empty, "");
  assertDatasetError(() => readCifar10Batch(empty), empty, "empty");
  assertDatasetError(
    () => readCifar10Batch(path.join(tmp, "missing.bin")),
    "missing.bin",
    "cannot read",
  );
});

test("a label > 9 is an error naming the file and record", () => {
  const file = path.join(tmp, "badlabel.bin");
  fs.writeFileSync(file, batch([9, 10]));
  assertDatasetError(() => readCifar10Batch(file), file, "record 1", "label 10");
});

test("loadCifar10 concatenates data_batch_1..5 and reads test_batch", () => {
  const dir = path.join(tmp, "local", CIFAR10_DIR_NAME);
  writeBatches(dir);
  for (const d of [dir, path.dirname(dir)]) {
    assert.equal(cifar10Available(d), true);
    const { train, test } = loadCifar10(d);
    assert.equal(train.n, 10);
    // batch k contributes labels [k, k + 4] for k = 1..5 (files in order)
    assert.deepEqual([...train.labels], [1, 5, 2, 6, 3, 7, 4, 8, 5, 9]);
    assert.deepEqual([...test.labels], [0, 9]);
    assert.equal(train.features.length, 10 * 3072);
    // example 2 is batch 2's first record (label 2, seed byte 1): G = (20 + 1)/255
    assert.equal(train.features[2 * 3072 + 1], Math.fround(21 / 255));
    validateClassificationDataset(train);
    validateClassificationDataset(test);
  }
  const two = loadCifar10(dir, { trainBatches: 2 });
  assert.deepEqual([...two.train.labels], [1, 5, 2, 6]);
  assertDatasetError(() => loadCifar10(dir, { trainBatches: 6 }), "trainBatches", "got 6");
});

test("cifar10Available is false and loadCifar10 names the directory when files are missing", () => {
  const dir = path.join(tmp, "partial");
  writeBatches(dir);
  fs.rmSync(path.join(dir, "data_batch_3.bin"));
  assert.equal(cifar10Available(dir), false);
  assert.equal(cifar10Available(path.join(tmp, "does-not-exist")), false);
  assertDatasetError(() => loadCifar10(dir), dir, "not found");
  fs.writeFileSync(path.join(dir, "data_batch_3.bin"), batch([1]).subarray(0, 100));
  assert.equal(cifar10Available(dir), false); // truncated file: not usable
});

// --- downloadCifar10 against a local HTTP server --------------------------------------------

let server: http.Server;
let base = "";
let archiveMd5 = "";
const requests: string[] = [];

before(async () => {
  // Build a small archive laid out like the official one: cifar-10-batches-bin/...
  const src = path.join(tmp, "archive-src");
  writeBatches(path.join(src, CIFAR10_DIR_NAME));
  const archive = path.join(tmp, "cifar-10-binary.tar.gz");
  await tar.c({ gzip: true, file: archive, cwd: src }, [CIFAR10_DIR_NAME]);
  const bytes = fs.readFileSync(archive);
  archiveMd5 = crypto.createHash("md5").update(bytes).digest("hex");
  server = http.createServer((req, res) => {
    requests.push(req.url ?? "");
    if (req.url === "/cifar-10-binary.tar.gz") {
      res.writeHead(200, { "content-length": bytes.length });
      res.end(bytes);
    } else if (req.url === "/moved/cifar-10-binary.tar.gz") {
      res.writeHead(302, { location: "/cifar-10-binary.tar.gz" });
      res.end();
    } else {
      res.writeHead(404);
      res.end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  removeDir(tmp);
});

test("downloadCifar10: download via redirect, md5 ok, extract, then cache", async () => {
  const cacheDir = path.join(tmp, "cache-ok");
  const url = `${base}/moved/cifar-10-binary.tar.gz`;
  const before = requests.length;
  const dir = await downloadCifar10({ cacheDir, url, md5: archiveMd5 });
  assert.equal(dir, path.join(cacheDir, CIFAR10_DIR_NAME));
  assert.deepEqual(requests.slice(before), [
    "/moved/cifar-10-binary.tar.gz",
    "/cifar-10-binary.tar.gz",
  ]);
  // Only the extracted directory is left: no archive (keepArchive false), no temp files.
  assert.deepEqual(fs.readdirSync(cacheDir), [CIFAR10_DIR_NAME]);
  const { train, test } = loadCifar10(dir);
  assert.deepEqual([...train.labels], [1, 5, 2, 6, 3, 7, 4, 8, 5, 9]);
  assert.deepEqual([...test.labels], [0, 9]);
  // Second call: served from the cache, the server sees no request.
  const again = await downloadCifar10({ cacheDir, url, md5: archiveMd5 });
  assert.equal(again, dir);
  assert.equal(requests.length, before + 2);
});

test("downloadCifar10: wrong md5 throws naming both sums, deletes the download", async () => {
  const cacheDir = path.join(tmp, "cache-bad-md5");
  const wrong = "0123456789abcdef0123456789abcdef";
  await assertRejectsDatasetError(
    downloadCifar10({ cacheDir, url: `${base}/cifar-10-binary.tar.gz`, md5: wrong }),
    "md5 mismatch",
    `expected ${wrong}`,
    `got ${archiveMd5}`,
  );
  assert.deepEqual(fs.readdirSync(cacheDir), []); // temp file removed, nothing extracted
  assert.equal(cifar10Available(cacheDir), false);
});

test("downloadCifar10 reports HTTP errors and invalid options", async () => {
  const cacheDir = path.join(tmp, "cache-404");
  await assertRejectsDatasetError(
    downloadCifar10({ cacheDir, url: `${base}/nothing-here.tar.gz`, md5: archiveMd5 }),
    `${base}/nothing-here.tar.gz`,
    "HTTP 404",
  );
  assert.deepEqual(fs.readdirSync(cacheDir), []);
  await assertRejectsDatasetError(downloadCifar10({ cacheDir, md5: "abc" }), "md5", "'abc'");
  await assertRejectsDatasetError(
    downloadCifar10({ cacheDir, url: "ftp://x/y.tar.gz" }),
    "ftp://x/y.tar.gz",
  );
  await assertRejectsDatasetError(downloadCifar10({ cacheDir: "" }), "cacheDir");
});

test("downloadCifar10: keepArchive re-extracts from the kept archive, no request", async () => {
  const cacheDir = path.join(tmp, "cache-keep");
  const url = `${base}/cifar-10-binary.tar.gz`;
  const dir = await downloadCifar10({ cacheDir, url, md5: archiveMd5, keepArchive: true });
  assert.deepEqual(fs.readdirSync(cacheDir).sort(), [CIFAR10_DIR_NAME, "cifar-10-binary.tar.gz"]);
  fs.rmSync(path.join(dir, "test_batch.bin")); // damage the extraction
  const before = requests.length;
  await downloadCifar10({ cacheDir, url, md5: archiveMd5, keepArchive: true });
  assert.equal(requests.length, before);
  assert.equal(cifar10Available(dir), true);
});
