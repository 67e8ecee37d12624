/**
 * CIFAR-10 (Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny Images"):
 * 60,000 colour 32×32 images in 10 classes, 50,000 train + 10,000 test.
 *
 * Reads the official *binary version* (`cifar-10-binary.tar.gz`, which extracts to
 * `cifar-10-batches-bin/`): `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`,
 * 10,000 records each, a record being 1 label byte then 3072 pixel bytes — the 1024 red
 * values, then 1024 green, then 1024 blue, each plane row-major 32×32 (planar, "CHW").
 * batchwise returns NHWC (`[32, 32, 3]`, channel fastest), pixels `p / 255` in float32.
 *
 * Not vendored (the archive is about 162 MB); {@link downloadCifar10} fetches, md5-checks and
 * caches it.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { pipeline } from "stream/promises";
import * as tar from "tar";
import { ClassificationDataset } from "./dataset";
import { DatasetError } from "../core/errors";

/** Class names of CIFAR-10, indexed by label (from `batches.meta.txt`). */
export const CIFAR10_CLASSES = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
] as const;

/** Bytes per record: 1 label byte + 3·32·32 pixel bytes. */
export const CIFAR10_RECORD_BYTES = 3073;
/** Official URL of the binary version. */
export const CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
/** md5 of {@link CIFAR10_URL}'s archive, as published on the CIFAR page. */
export const CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";
/** Directory the archive extracts to. */
export const CIFAR10_DIR_NAME = "cifar-10-batches-bin";
/** The training batch files, in order. */
export const CIFAR10_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
/** The test batch file. */
export const CIFAR10_TEST_FILE = "test_batch.bin";

const PIXELS = 32 * 32;
const IMAGE_BYTES = 3 * PIXELS;
const SCALE = Float32Array.from({ length: 256 }, (_, p) => p / 255);

/**
 * Decodes the records of one batch file into `x`/`y` starting at example `offset`.
 * Planar RGB (CHW) becomes interleaved (HWC):
 * `x[(e·1024 + p)·3 + c] = bytes[r·3073 + 1 + c·1024 + p] / 255`.
 */
function decodeRecords(
  bytes: Uint8Array,
  file: string,
  x: Float32Array,
  y: Int32Array,
  offset: number,
): void {
  const records = checkRecordCount(bytes.length, file);
  for (let r = 0; r < records; r++) {
    const base = r * CIFAR10_RECORD_BYTES;
    const label = bytes[base];
    if (label > 9) {
      throw new DatasetError(
        `${file}: record ${r} has label ${label}, CIFAR-10 labels are 0..9 ` +
          `(is this the CIFAR-10 binary version?)`,
      );
    }
    const e = offset + r;
    y[e] = label;
    const red = base + 1;
    const out = e * IMAGE_BYTES;
    for (let p = 0; p < PIXELS; p++) {
      const o = out + 3 * p;
      x[o] = SCALE[bytes[red + p]];
      x[o + 1] = SCALE[bytes[red + PIXELS + p]];
      x[o + 2] = SCALE[bytes[red + 2 * PIXELS + p]];
    }
  }
}

function checkRecordCount(size: number, file: string): number {
  if (size === 0) throw new DatasetError(`${file}: empty file (no CIFAR-10 records)`);
  if (size % CIFAR10_RECORD_BYTES !== 0) {
    const whole = Math.floor(size / CIFAR10_RECORD_BYTES);
    throw new DatasetError(
      `${file}: truncated CIFAR-10 batch: ${size} bytes is not a multiple of the ` +
        `${CIFAR10_RECORD_BYTES}-byte record (${whole} whole records + ` +
        `${size - whole * CIFAR10_RECORD_BYTES} bytes)`,
    );
  }
  return size / CIFAR10_RECORD_BYTES;
}

function readFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new DatasetError(`${file}: cannot read file (${(e as Error).message})`, { cause: e });
  }
}

/**
 * Decodes a CIFAR-10 binary batch held in memory.
 *
 * @param buffer - The file's bytes: a positive multiple of 3073 (label byte + R, G, B planes).
 * @param name - Dataset name, also used as the file name in error messages.
 * @returns The records as a dataset: featureShape `[32, 32, 3]` (NHWC), values in `[0, 1]`,
 *   10 classes.
 * @throws {DatasetError} Naming `name` if the size is 0 or not a multiple of 3073
 *   (truncated), or a label is > 9 (with the record index).
 * @example
 * ```ts
 * const batch = parseCifar10Batch(fs.readFileSync("test_batch.bin"), "cifar10/test");
 * batch.n; // 10000
 * ```
 */
export function parseCifar10Batch(buffer: Uint8Array, name: string): ClassificationDataset {
  const n = checkRecordCount(buffer.length, name);
  const x = new Float32Array(n * IMAGE_BYTES);
  const y = new Int32Array(n);
  decodeRecords(buffer, name, x, y, 0);
  return { name, n, featureShape: [32, 32, 3], numClasses: 10, features: x, labels: y };
}

/**
 * Reads one CIFAR-10 binary batch file (e.g. `data_batch_1.bin`).
 *
 * @param file - Path to the batch file.
 * @param name - Dataset name; defaults to the file path.
 * @returns The records as a dataset (see {@link parseCifar10Batch}).
 * @throws {DatasetError} Naming the file if it cannot be read, is truncated, or has a label > 9.
 * @example
 * ```ts
 * const test = readCifar10Batch("cache/cifar-10-batches-bin/test_batch.bin");
 * ```
 */
export function readCifar10Batch(file: string, name: string = file): ClassificationDataset {
  const bytes = readFile(file);
  const n = checkRecordCount(bytes.length, file);
  const x = new Float32Array(n * IMAGE_BYTES);
  const y = new Int32Array(n);
  decodeRecords(bytes, file, x, y, 0);
  return { name, n, featureShape: [32, 32, 3], numClasses: 10, features: x, labels: y };
}

/** `dir` if it holds the batch files, else `dir/cifar-10-batches-bin` if that does, else null. */
function resolveBatchDir(dir: string): string | null {
  for (const d of [dir, path.join(dir, CIFAR10_DIR_NAME)]) {
    const ok = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].every((f) => {
      try {
        const st = fs.statSync(path.join(d, f));
        return st.isFile() && st.size > 0 && st.size % CIFAR10_RECORD_BYTES === 0;
      } catch {
        return false;
      }
    });
    if (ok) return d;
  }
  return null;
}

/**
 * Whether the six CIFAR-10 batch files are present (each a non-empty multiple of 3073 bytes)
 * in `dir` or in `dir/cifar-10-batches-bin`. Reads no file contents.
 *
 * @param dir - The extracted `cifar-10-batches-bin` directory, or the cache directory above it.
 * @returns True when {@link loadCifar10} can be called on `dir`.
 * @example
 * ```ts
 * const data = cifar10Available("cache") ? loadCifar10("cache") : loadFashionMnist();
 * ```
 */
export function cifar10Available(dir: string): boolean {
  return typeof dir === "string" && dir.length > 0 && resolveBatchDir(dir) !== null;
}

/** Options for {@link loadCifar10}. */
export interface LoadCifar10Options {
  /** How many of `data_batch_1..5.bin` to load as the training set, 1..5 (default 5). */
  trainBatches?: number;
}

/**
 * Loads CIFAR-10's train set (`data_batch_1..k.bin`) and test set (`test_batch.bin`).
 *
 * The full train set is 50,000·3072 float32 values (614 MB); `trainBatches` loads fewer.
 *
 * @param dir - The `cifar-10-batches-bin` directory, or the directory holding it (as
 *   returned by / passed to {@link downloadCifar10}).
 * @param options - `trainBatches`: integer in [1, 5], default 5.
 * @returns `{train, test}`, featureShape `[32, 32, 3]` (NHWC), values in `[0, 1]`, labels 0..9
 *   named by {@link CIFAR10_CLASSES}.
 * @throws {DatasetError} If the files are missing (naming the directory), a file is
 *   truncated or has a label > 9 (naming the file), or `trainBatches` is invalid.
 * @example
 * ```ts
 * const { train, test } = loadCifar10(await downloadCifar10({ cacheDir: "cache" }));
 * ```
 */
export function loadCifar10(
  dir: string,
  options: LoadCifar10Options = {},
): { train: ClassificationDataset; test: ClassificationDataset } {
  const { trainBatches = 5 } = options;
  if (!Number.isInteger(trainBatches) || trainBatches < 1 || trainBatches > 5) {
    throw new DatasetError(`trainBatches must be an integer in [1, 5], got ${trainBatches}`);
  }
  const batchDir = resolveBatchDir(dir);
  if (batchDir === null) {
    throw new DatasetError(
      `${dir}: CIFAR-10 binary batches not found (need ${CIFAR10_TRAIN_FILES.join(", ")}, ` +
        `${CIFAR10_TEST_FILE} in it or in ${CIFAR10_DIR_NAME}/ below it; see downloadCifar10)`,
    );
  }
  const files = CIFAR10_TRAIN_FILES.slice(0, trainBatches).map((f) => path.join(batchDir, f));
  // Size the output from the file sizes, then decode each file straight into its slot.
  const counts = files.map((f) => checkRecordCount(fs.statSync(f).size, f));
  const n = counts.reduce((a, b) => a + b, 0);
  const x = new Float32Array(n * IMAGE_BYTES);
  const y = new Int32Array(n);
  let offset = 0;
  files.forEach((f, i) => {
    const bytes = readFile(f);
    if (bytes.length !== counts[i] * CIFAR10_RECORD_BYTES) {
      throw new DatasetError(`${f}: file changed while loading`);
    }
    decodeRecords(bytes, f, x, y, offset);
    offset += counts[i];
  });
  const train: ClassificationDataset = {
    name: "cifar10/train",
    n,
    featureShape: [32, 32, 3],
    numClasses: 10,
    features: x,
    labels: y,
  };
  const test = readCifar10Batch(path.join(batchDir, CIFAR10_TEST_FILE), "cifar10/test");
  return { train, test };
}

/** Options for {@link downloadCifar10}. */
export interface DownloadCifar10Options {
  /** Directory to cache in; `cifar-10-batches-bin/` is created inside it. Created if absent. */
  cacheDir: string;
  /** Archive URL (http or https); default {@link CIFAR10_URL}. */
  url?: string;
  /** Expected md5 of the archive, 32 hex digits; default {@link CIFAR10_MD5}. */
  md5?: string;
  /** Keep the `.tar.gz` in `cacheDir` after extraction (default false). */
  keepArchive?: boolean;
  /** Abort when the connection is idle this long, in ms (default 60,000). */
  timeoutMs?: number;
  /** Called as data arrives: bytes so far, and the total when the server sent one. */
  onProgress?: (received: number, total: number | null) => void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

interface Fetched {
  md5: string;
  bytes: number;
}

/** GETs `url` (following redirects) into `dest`, hashing as it streams. */
function fetchToFile(
  url: string,
  dest: string,
  opts: { timeoutMs: number; onProgress?: (r: number, t: number | null) => void },
  redirectsLeft = MAX_REDIRECTS,
): Promise<Fetched> {
  return new Promise<Fetched>((resolve, reject) => {
    const u = new URL(url); // valid: checked by the caller or built by `new URL`
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      reject(new DatasetError(`${url}: only http and https are supported`));
      return;
    }
    const client = u.protocol === "https:" ? https : http;
    const req = client.get(u, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location !== undefined) {
        res.resume();
        if (redirectsLeft <= 0) {
          reject(new DatasetError(`${url}: more than ${MAX_REDIRECTS} redirects`));
          return;
        }
        let next: string;
        try {
          next = new URL(location, u).toString();
        } catch {
          reject(new DatasetError(`${url}: redirect to an invalid URL '${location}'`));
          return;
        }
        fetchToFile(next, dest, opts, redirectsLeft - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new DatasetError(`${url}: download failed: HTTP ${status} ${res.statusMessage}`));
        return;
      }
      const lengthHeader = res.headers["content-length"];
      const total = lengthHeader === undefined ? null : Number(lengthHeader);
      const hash = crypto.createHash("md5");
      let bytes = 0;
      pipeline(
        res,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            bytes += chunk.length;
            opts.onProgress?.(bytes, total);
            yield chunk;
          }
        },
        fs.createWriteStream(dest),
      ).then(
        () => {
          if (total !== null && Number.isFinite(total) && bytes !== total) {
            reject(
              new DatasetError(
                `${url}: download truncated: expected ${total} bytes, received ${bytes}`,
              ),
            );
          } else {
            resolve({ md5: hash.digest("hex"), bytes });
          }
        },
        (e: Error) =>
          reject(new DatasetError(`${url}: download failed (${e.message})`, { cause: e })),
      );
    });
    req.setTimeout(opts.timeoutMs, () =>
      req.destroy(new Error(`no data for ${opts.timeoutMs} ms`)),
    );
    req.on("error", (e) =>
      reject(new DatasetError(`${url}: download failed (${e.message})`, { cause: e })),
    );
  });
}

/** md5 (hex) of a file on disk. */
async function md5OfFile(file: string): Promise<string> {
  const hash = crypto.createHash("md5");
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Extracts `cifar-10-batches-bin/` from `archive` into `target`'s parent, atomically. */
async function extractCifarArchive(archive: string, cacheDir: string, target: string) {
  const tmp = fs.mkdtempSync(path.join(cacheDir, ".extract-"));
  try {
    try {
      await tar.x({
        file: archive,
        cwd: tmp,
        strict: true,
        filter: (p: string) => p.replace(/^\.\//, "").split("/")[0] === CIFAR10_DIR_NAME,
      });
    } catch (e) {
      throw new DatasetError(`${archive}: cannot extract (${(e as Error).message})`, {
        cause: e,
      });
    }
    const extracted = path.join(tmp, CIFAR10_DIR_NAME);
    if (resolveBatchDir(extracted) !== extracted) {
      throw new DatasetError(
        `${archive}: archive lacks ${CIFAR10_DIR_NAME}/ with ${CIFAR10_TRAIN_FILES.join(", ")}, ` +
          `${CIFAR10_TEST_FILE} (each a non-empty multiple of ${CIFAR10_RECORD_BYTES} bytes)`,
      );
    }
    fs.rmSync(target, { recursive: true, force: true }); // an incomplete earlier extraction
    fs.renameSync(extracted, target);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Downloads, verifies and extracts the CIFAR-10 binary archive into a cache directory,
 * unless it is already there.
 *
 * Steps: (1) if `cacheDir/cifar-10-batches-bin/` already holds the six batch files, return it
 * without touching the network; (2) else, if a kept archive with the right md5 is in
 * `cacheDir`, reuse it; otherwise GET `url` (http/https, following up to 5 redirects) into a
 * temporary file in `cacheDir`, hashing it as it streams; (3) compare the md5 — on a mismatch
 * delete the temporary file and throw; (4) rename it to the archive name, extract
 * `cifar-10-batches-bin/` with `tar` into a temporary directory and rename that into place;
 * (5) delete the archive unless `keepArchive`.
 *
 * @param options - `cacheDir` (required), `url`, `md5` (32 hex digits), `keepArchive`,
 *   `timeoutMs` (idle timeout, ms, > 0), `onProgress`.
 * @returns The path of the extracted `cifar-10-batches-bin` directory (pass it to
 *   {@link loadCifar10}).
 * @throws {DatasetError} On invalid options; on an HTTP error status, network error, idle
 *   timeout or short read (naming the URL); on an md5 mismatch (naming the expected and the
 *   actual md5); or when the archive cannot be extracted or lacks the batch files.
 * @example
 * ```ts
 * const dir = await downloadCifar10({ cacheDir: path.join(os.homedir(), ".cache", "batchwise") });
 * const { train, test } = loadCifar10(dir);
 * ```
 */
export async function downloadCifar10(options: DownloadCifar10Options): Promise<string> {
  const {
    cacheDir,
    url = CIFAR10_URL,
    md5 = CIFAR10_MD5,
    keepArchive = false,
    timeoutMs = 60_000,
    onProgress,
  } = options;
  if (typeof cacheDir !== "string" || cacheDir.length === 0) {
    throw new DatasetError(`cacheDir must be a non-empty string, got ${String(cacheDir)}`);
  }
  if (typeof md5 !== "string" || !/^[0-9a-fA-F]{32}$/.test(md5)) {
    throw new DatasetError(`md5 must be 32 hex digits, got '${String(md5)}'`);
  }
  if (!(timeoutMs > 0)) {
    throw new DatasetError(`timeoutMs must be > 0, got ${timeoutMs}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatasetError(`url: not a valid URL: '${url}'`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new DatasetError(`url: only http and https are supported, got '${url}'`);
  }

  // 1. Cached extraction: no network.
  const target = path.join(cacheDir, CIFAR10_DIR_NAME);
  if (resolveBatchDir(target) === target) return target;

  // 2. Kept archive, or download into a temporary file.
  fs.mkdirSync(cacheDir, { recursive: true });
  const expected = md5.toLowerCase();
  const archive = path.join(cacheDir, path.basename(parsed.pathname) || "cifar-10-binary.tar.gz");
  const haveArchive = fs.existsSync(archive) && (await md5OfFile(archive)) === expected;
  if (!haveArchive) {
    const tmp = `${archive}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.part`;
    let got: Fetched;
    try {
      got = await fetchToFile(url, tmp, { timeoutMs, onProgress });
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    // 3. Verify.
    if (got.md5 !== expected) {
      fs.rmSync(tmp, { force: true });
      throw new DatasetError(
        `${url}: md5 mismatch: expected ${expected}, got ${got.md5} ` +
          `(${got.bytes} bytes; download deleted)`,
      );
    }
    fs.renameSync(tmp, archive);
  }

  // 4. Extract; 5. tidy up.
  await extractCifarArchive(archive, cacheDir, target);
  if (!keepArchive) fs.rmSync(archive, { force: true });
  return target;
}
