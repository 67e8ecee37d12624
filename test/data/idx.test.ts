import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { IdxArray, encodeIdx, parseIdx, readIdx } from "../../lib/data";
import { DatasetError } from "../../lib/core/errors";
import { assertDatasetError, makeTempDir, removeDir } from "./helpers";

const tmp = makeTempDir("idx");
after(() => removeDir(tmp));

/** Header `00 00 type ndims` followed by big-endian uint32 dims. */
function header(type: number, dims: number[]): number[] {
  const out = [0, 0, type, dims.length];
  for (const d of dims) out.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return out;
}

test("parseIdx decodes hand-written uint8 and int8 files", () => {
  // 00 00 08 01 | 00 00 00 03 | 07 08 09 → uint8 [3] = [7, 8, 9]
  const u = parseIdx(Uint8Array.from([...header(0x08, [3]), 7, 8, 9]), "u8");
  assert.equal(u.dtype, "uint8");
  assert.deepEqual(u.shape, [3]);
  assert.ok(u.data instanceof Uint8Array);
  assert.deepEqual([...u.data], [7, 8, 9]);
  // int8: 0xFF = -1, 0x80 = -128, 0x7F = 127
  const i = parseIdx(Uint8Array.from([...header(0x09, [3]), 0xff, 0x80, 0x7f]), "i8");
  assert.ok(i.data instanceof Int8Array);
  assert.deepEqual([...i.data], [-1, -128, 127]);
});

test("parseIdx reads multi-byte values big-endian", () => {
  // int16: 01 02 = 0x0102 = 258; FF FE = -2
  const s = parseIdx(Uint8Array.from([...header(0x0b, [2]), 1, 2, 0xff, 0xfe]), "i16");
  assert.equal(s.dtype, "int16");
  assert.ok(s.data instanceof Int16Array);
  assert.deepEqual([...s.data], [258, -2]);
  // int32: 00 00 01 00 = 256; FF FF FF FF = -1
  const n = parseIdx(
    Uint8Array.from([...header(0x0c, [2]), 0, 0, 1, 0, 255, 255, 255, 255]),
    "i32",
  );
  assert.ok(n.data instanceof Int32Array);
  assert.deepEqual([...n.data], [256, -1]);
  // float32: 3F 80 00 00 = 1.0; C0 20 00 00 = -2.5 (sign 1, exponent 128, mantissa 0.25)
  const f = parseIdx(
    Uint8Array.from([...header(0x0d, [2]), 0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0]),
    "f32",
  );
  assert.equal(f.dtype, "float32");
  assert.ok(f.data instanceof Float32Array);
  assert.deepEqual([...f.data], [1, -2.5]);
  // float64: 3F F8 00.. = 1.5
  const d = parseIdx(Uint8Array.from([...header(0x0e, [1]), 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]), "f64");
  assert.equal(d.dtype, "float64");
  assert.ok(d.data instanceof Float64Array);
  assert.deepEqual([...d.data], [1.5]);
});

test("encodeIdx and parseIdx round-trip every dtype with a 2-D shape", () => {
  const cases: IdxArray[] = [
    { dtype: "uint8", shape: [2, 3], data: Uint8Array.of(0, 1, 2, 253, 254, 255) },
    { dtype: "int8", shape: [2, 3], data: Int8Array.of(-128, -1, 0, 1, 2, 127) },
    { dtype: "int16", shape: [2, 3], data: Int16Array.of(-32768, -1, 0, 1, 300, 32767) },
    {
      dtype: "int32",
      shape: [3, 2],
      data: Int32Array.of(-(2 ** 31), -1, 0, 1, 70000, 2 ** 31 - 1),
    },
    { dtype: "float32", shape: [2, 3], data: Float32Array.of(-1.5, 0, 0.1, 1e-30, 3e38, -0) },
    {
      dtype: "float64",
      shape: [3, 2],
      data: Float64Array.of(Math.PI, -Math.E, 0, 1e-300, 1e300, 2),
    },
  ];
  for (const c of cases) {
    const bytes = encodeIdx(c);
    const back = parseIdx(bytes, c.dtype);
    assert.equal(back.dtype, c.dtype);
    assert.deepEqual(back.shape, c.shape);
    assert.equal(back.data.constructor, c.data.constructor);
    assert.deepEqual([...back.data], [...c.data]);
  }
  // The header is what the format says: type byte, ndims, big-endian dims.
  const b = encodeIdx(cases[2]);
  assert.deepEqual([...b.subarray(0, 12)], [0, 0, 0x0b, 2, 0, 0, 0, 2, 0, 0, 0, 3]);
  assert.equal(b.length, 12 + 6 * 2);
});

test("encodeIdx rejects mismatched data", () => {
  assertDatasetError(
    () => encodeIdx({ dtype: "uint8", shape: [4], data: Uint8Array.of(1, 2, 3) }),
    "3 elements",
    "needs 4",
  );
  assertDatasetError(
    () => encodeIdx({ dtype: "int16", shape: [1], data: Uint8Array.of(1) }),
    "Uint8Array",
    "Int16Array",
  );
  assertDatasetError(
    () => encodeIdx({ dtype: "uint8", shape: [0], data: new Uint8Array(0) }),
    "[1, 2^32)",
  );
});

test("readIdx reads raw and gzip files; gzip is detected by magic, not by name", () => {
  const a: IdxArray = { dtype: "int32", shape: [2, 2], data: Int32Array.of(1, -2, 3, -4) };
  const raw = path.join(tmp, "a.idx");
  const gz = path.join(tmp, "a.idx.gz");
  const gzNoExt = path.join(tmp, "a-compressed.idx");
  fs.writeFileSync(raw, encodeIdx(a));
  fs.writeFileSync(gz, zlib.gzipSync(encodeIdx(a)));
  fs.writeFileSync(gzNoExt, zlib.gzipSync(encodeIdx(a)));
  for (const f of [raw, gz, gzNoExt]) {
    const r = readIdx(f);
    assert.deepEqual(r.shape, [2, 2]);
    assert.deepEqual([...r.data], [1, -2, 3, -4]);
  }
});

test("the decoded data owns its memory (not a view of a pooled Buffer)", () => {
  // A small Buffer from Buffer.from(array) can live in Node's shared pool.
  const buf = Buffer.from([...header(0x08, [2]), 5, 6]);
  const r = parseIdx(buf, "pooled");
  assert.equal(r.data.buffer.byteLength, 2);
  buf[8] = 99;
  assert.deepEqual([...r.data], [5, 6]);
});

test("wrong magic numbers are DatasetErrors naming the file and the magic", () => {
  // First two bytes must be 0.
  assertDatasetError(
    () => parseIdx(Uint8Array.from([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 0]), "bad1"),
    "bad1",
    "wrong IDX magic number 0x12340801",
  );
  // Type byte 0x0A is not an IDX type.
  assertDatasetError(
    () => parseIdx(Uint8Array.from([...header(0x0a, [1]), 0]), "bad2"),
    "bad2",
    "wrong IDX magic number 0x00000A01",
  );
  // A text file: "hello" = 68 65 6C 6C.
  const txt = path.join(tmp, "hello.txt");
  fs.writeFileSync(txt, "hello world");
  assertDatasetError(() => readIdx(txt), txt, "wrong IDX magic number 0x68656C6C");
});

test("zero dimensions, zero-size dimensions and short headers are errors", () => {
  assertDatasetError(() => parseIdx(Uint8Array.of(0, 0, 8, 0), "nodims"), "nodims", "0 dimensions");
  assertDatasetError(
    () => parseIdx(Uint8Array.from(header(0x08, [2, 0])), "zerodim"),
    "zerodim",
    "dimension 1 has size 0",
  );
  assertDatasetError(() => parseIdx(Uint8Array.of(0, 0), "tiny"), "tiny", "truncated IDX header");
  // 3 dims need 4 + 12 = 16 header bytes; give 10.
  assertDatasetError(
    () => parseIdx(Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 1, 0, 0), "shorthdr"),
    "shorthdr",
    "need 16 header bytes, file has 10",
  );
});

test("truncated data and trailing bytes report expected vs actual bytes", () => {
  // int16 [3] needs 6 payload bytes.
  const full = [...header(0x0b, [3]), 0, 1, 0, 2, 0, 3];
  const file = path.join(tmp, "short.idx");
  fs.writeFileSync(file, Uint8Array.from(full.slice(0, -1)));
  assertDatasetError(() => readIdx(file), file, "truncated", "needs 6 payload bytes, file has 5");
  const long = path.join(tmp, "long.idx");
  fs.writeFileSync(long, Uint8Array.from([...full, 9, 9]));
  assertDatasetError(
    () => readIdx(long),
    long,
    "2 trailing bytes",
    "needs 6 payload bytes, file has 8",
  );
});

test("truncated or corrupt gzip is a DatasetError naming the file", () => {
  const a: IdxArray = { dtype: "uint8", shape: [1000], data: new Uint8Array(1000).fill(7) };
  const gz = zlib.gzipSync(encodeIdx(a));
  const cut = path.join(tmp, "cut.idx.gz");
  fs.writeFileSync(cut, gz.subarray(0, gz.length - 12));
  const e = assertDatasetError(() => readIdx(cut), cut, "truncated or corrupt gzip");
  assert.ok(e.cause instanceof Error);
  const corrupt = Buffer.from(gz);
  corrupt.fill(0xaa, 10, 20); // garble the deflate stream after the 10-byte gzip header
  const bad = path.join(tmp, "bad.idx.gz");
  fs.writeFileSync(bad, corrupt);
  assertDatasetError(() => readIdx(bad), bad, "gzip");
});

test("a missing file is a DatasetError naming it", () => {
  const missing = path.join(tmp, "nope.idx");
  const e = assertDatasetError(() => readIdx(missing), missing, "cannot read");
  assert.ok(e instanceof DatasetError);
});
