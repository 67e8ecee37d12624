/**
 * Reader (and writer) for the IDX file format used by MNIST and Fashion-MNIST.
 *
 * Layout (LeCun, "THE MNIST DATABASE of handwritten digits"): a 4-byte magic number
 * `00 00 TT NN` where `TT` is the element type and `NN` the number of dimensions, then `NN`
 * big-endian uint32 dimension sizes, then the elements in row-major (C) order, multi-byte
 * elements big-endian. Files may be gzip-compressed as distributed (`*.gz`); the reader
 * detects gzip by its magic bytes `1f 8b`, not by the file name.
 */
import * as fs from "fs";
import * as zlib from "zlib";
import { DatasetError } from "../core/errors";

/** Element type of an IDX array, named after the typed array that holds it. */
export type IdxDtype = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/** The typed arrays an IDX array's data can be. */
export type IdxData =
  Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX array: plain data, elements in row-major order, native byte order. */
export interface IdxArray {
  /** Element type. */
  dtype: IdxDtype;
  /** Dimension sizes, outermost first (e.g. `[60000, 28, 28]`); each > 0. */
  shape: number[];
  /** `product(shape)` elements, row-major. Owns its memory (not a view of the file buffer). */
  data: IdxData;
}

interface DtypeInfo {
  code: number;
  itemSize: number;
  make: (buffer: ArrayBuffer) => IdxData;
}

const DTYPES: Record<IdxDtype, DtypeInfo> = {
  uint8: { code: 0x08, itemSize: 1, make: (b) => new Uint8Array(b) },
  int8: { code: 0x09, itemSize: 1, make: (b) => new Int8Array(b) },
  int16: { code: 0x0b, itemSize: 2, make: (b) => new Int16Array(b) },
  int32: { code: 0x0c, itemSize: 4, make: (b) => new Int32Array(b) },
  float32: { code: 0x0d, itemSize: 4, make: (b) => new Float32Array(b) },
  float64: { code: 0x0e, itemSize: 8, make: (b) => new Float64Array(b) },
};

const DTYPE_BY_CODE = new Map<number, IdxDtype>(
  (Object.keys(DTYPES) as IdxDtype[]).map((d) => [DTYPES[d].code, d]),
);

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function hex(n: number, digits: number): string {
  return "0x" + (n >>> 0).toString(16).toUpperCase().padStart(digits, "0");
}

/** Reverses the byte order of every `itemSize`-byte element of `bytes`, in place. */
function swapBytes(bytes: Uint8Array, itemSize: number): void {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (itemSize === 2) b.swap16();
  else if (itemSize === 4) b.swap32();
  else if (itemSize === 8) b.swap64();
}

/**
 * Returns `buffer` gunzipped if it starts with the gzip magic `1f 8b`, else `buffer` itself.
 *
 * @param buffer - File contents, raw or gzip-compressed.
 * @param name - File name (or other label) used in error messages.
 * @returns The uncompressed bytes.
 * @throws {DatasetError} If the data looks like gzip but is truncated or corrupt.
 * @example
 * ```ts
 * const raw = maybeGunzip(fs.readFileSync("train-labels-idx1-ubyte.gz"), "train-labels");
 * ```
 */
export function maybeGunzip(buffer: Uint8Array, name: string): Uint8Array {
  if (buffer.length >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b) {
    try {
      return zlib.gunzipSync(buffer);
    } catch (e) {
      throw new DatasetError(
        `${name}: truncated or corrupt gzip data (${(e as Error).message}); ` +
          `re-download the file`,
        { cause: e },
      );
    }
  }
  return buffer;
}

/**
 * Decodes an IDX array from bytes (gzip-compressed or raw).
 *
 * Checks, in order: the 4-byte magic `00 00 TT NN` (`TT` ∈ {08 ubyte, 09 byte, 0B short,
 * 0C int, 0D float, 0E double}), `NN ≥ 1` dimensions, a complete header, every dimension
 * `> 0`, and that the payload is exactly `product(shape)·itemSize` bytes.
 *
 * @param buffer - File contents; gzip is detected by the magic bytes `1f 8b`.
 * @param name - File name used in error messages (e.g. the path).
 * @returns The decoded array; multi-byte elements converted from big-endian to native order.
 * @throws {DatasetError} Naming `name` on a corrupt gzip, a wrong magic number, zero
 *   dimensions, a zero dimension size, a truncated header, or a payload that is shorter
 *   (truncated) or longer (trailing bytes) than the shape requires (expected vs actual bytes).
 * @example
 * ```ts
 * // 00 00 08 01 | 00 00 00 03 | 07 08 09  →  uint8 [3] = [7, 8, 9]
 * const a = parseIdx(Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9), "tiny");
 * ```
 */
export function parseIdx(buffer: Uint8Array, name: string): IdxArray {
  if (!(buffer instanceof Uint8Array)) {
    throw new DatasetError(`${name}: buffer must be a Uint8Array or Buffer`);
  }
  const bytes = maybeGunzip(buffer, name);
  if (bytes.length < 4) {
    throw new DatasetError(
      `${name}: truncated IDX header: file has ${bytes.length} bytes, the magic number needs 4`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const dtype = DTYPE_BY_CODE.get(bytes[2]);
  if (bytes[0] !== 0 || bytes[1] !== 0 || dtype === undefined) {
    throw new DatasetError(
      `${name}: wrong IDX magic number ${hex(magic, 8)} (expected 0x0000TTNN with element ` +
        `type TT in 08, 09, 0B, 0C, 0D, 0E); not an IDX file`,
    );
  }
  const ndims = bytes[3];
  if (ndims < 1) {
    throw new DatasetError(
      `${name}: IDX magic number ${hex(magic, 8)} declares 0 dimensions (need at least 1)`,
    );
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DatasetError(
      `${name}: truncated IDX header: ${ndims} dimensions need ${headerBytes} header bytes, ` +
        `file has ${bytes.length}`,
    );
  }
  const shape: number[] = [];
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d === 0) {
      throw new DatasetError(`${name}: IDX dimension ${i} has size 0 (shape must be > 0)`);
    }
    shape.push(d);
  }
  const { itemSize, make } = DTYPES[dtype];
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * itemSize;
  const actual = bytes.length - headerBytes;
  if (actual < expected) {
    throw new DatasetError(
      `${name}: truncated IDX data: shape [${shape.join(", ")}] of ${dtype} needs ` +
        `${expected} payload bytes, file has ${actual}`,
    );
  }
  if (actual > expected) {
    throw new DatasetError(
      `${name}: ${actual - expected} trailing bytes after IDX data: shape ` +
        `[${shape.join(", ")}] of ${dtype} needs ${expected} payload bytes, file has ${actual}`,
    );
  }
  // Copy into a fresh, aligned ArrayBuffer the result owns, then fix the byte order.
  // (Not `bytes.slice`: on a Buffer that returns a view of the shared memory.)
  const payload = new Uint8Array(expected);
  payload.set(bytes.subarray(headerBytes, headerBytes + expected));
  if (itemSize > 1 && LITTLE_ENDIAN_HOST) swapBytes(payload, itemSize);
  return { dtype, shape, data: make(payload.buffer) };
}

/**
 * Reads an IDX file (gzip-compressed or raw) from disk.
 *
 * @param path - Path to the file, e.g. `data/fashion-mnist/train-labels-idx1-ubyte.gz`.
 * @returns The decoded array (see {@link parseIdx}).
 * @throws {DatasetError} Naming the file if it cannot be read, or on any format error
 *   listed under {@link parseIdx}.
 * @example
 * ```ts
 * const labels = readIdx("data/fashion-mnist/t10k-labels-idx1-ubyte.gz");
 * labels.shape; // [10000]
 * ```
 */
export function readIdx(path: string): IdxArray {
  if (typeof path !== "string" || path.length === 0) {
    throw new DatasetError(`readIdx: path must be a non-empty string, got ${String(path)}`);
  }
  let buffer: Buffer;
  try {
    buffer = fs.readFileSync(path);
  } catch (e) {
    throw new DatasetError(`${path}: cannot read file (${(e as Error).message})`, { cause: e });
  }
  return parseIdx(buffer, path);
}

/**
 * Encodes an array in IDX format (uncompressed); the inverse of {@link parseIdx}.
 *
 * @param array - `{dtype, shape, data}` with `data.length === product(shape)`, each dimension
 *   an integer in [1, 2³²), at most 255 dimensions; `data` of the typed array matching `dtype`.
 * @returns The IDX bytes (header, then big-endian elements).
 * @throws {DatasetError} If the dtype is unknown, the shape is invalid, or the data length or
 *   type does not match.
 * @example
 * ```ts
 * encodeIdx({ dtype: "uint8", shape: [3], data: Uint8Array.of(7, 8, 9) });
 * // <Buffer 00 00 08 01 00 00 00 03 07 08 09>
 * ```
 */
export function encodeIdx(array: IdxArray): Buffer {
  const info = DTYPES[array.dtype];
  if (info === undefined) {
    throw new DatasetError(`encodeIdx: dtype: unknown value '${String(array.dtype)}'`);
  }
  const { shape, data } = array;
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 255) {
    throw new DatasetError(`encodeIdx: shape must have 1..255 dimensions, got ${String(shape)}`);
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1 || d > 0xffffffff) {
      throw new DatasetError(
        `encodeIdx: shape [${shape.join(", ")}]: every dimension must be an integer in ` +
          `[1, 2^32), got ${d}`,
      );
    }
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const expectedType = info.make(new ArrayBuffer(0)).constructor;
  if (data.constructor !== expectedType) {
    throw new DatasetError(
      `encodeIdx: data is a ${data.constructor.name}, dtype ${array.dtype} needs a ` +
        `${expectedType.name}`,
    );
  }
  if (data.length !== count) {
    throw new DatasetError(
      `encodeIdx: data has ${data.length} elements, shape [${shape.join(", ")}] needs ${count}`,
    );
  }
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = info.code;
  header[3] = shape.length;
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  // Buffer.from(Uint8Array) copies, so swapping does not touch the caller's data.
  const payload = Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (info.itemSize > 1 && LITTLE_ENDIAN_HOST) swapBytes(payload, info.itemSize);
  return Buffer.concat([header, payload]);
}
