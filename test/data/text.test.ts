import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  CharVocab,
  TINY_SHAKESPEARE_PATH,
  lmBatch,
  lmWindowCount,
  loadCharCorpus,
} from "../../lib/data";
import { assertDatasetError, makeTempDir, removeDir } from "./helpers";

const tmp = makeTempDir("text");
after(() => removeDir(tmp));

test("CharVocab: sorted unique characters, encode and decode", () => {
  const v = CharVocab.fromText("hello");
  // distinct chars of "hello" sorted: e h l o → ids 0 1 2 3
  assert.deepEqual(v.chars, ["e", "h", "l", "o"]);
  assert.equal(v.size, 4);
  const ids = v.encode("hole");
  assert.ok(ids instanceof Int32Array);
  assert.deepEqual([...ids], [1, 3, 2, 0]);
  assert.equal(v.decode(ids), "hole");
  assert.equal(v.decode([]), "");
  assert.equal(v.encode("").length, 0);
});

test("CharVocab works on code points and sorts like Python", () => {
  // U+1F600 (😀) is two UTF-16 units 0xD83D 0xDE00, which sort *before* U+E000 as strings;
  // by code point (Python's order) U+E000 comes first.
  const v = CharVocab.fromText("😀\uE000a😀");
  assert.deepEqual(v.chars, ["a", "\uE000", "😀"]);
  const ids = v.encode("a😀\uE000");
  assert.deepEqual([...ids], [0, 2, 1]); // 3 tokens for 4 UTF-16 units
  assert.equal(v.decode(ids), "a😀\uE000");
});

test("CharVocab errors name the character or id and the position", () => {
  const v = CharVocab.fromText("abc");
  assertDatasetError(() => v.encode("abxc"), '"x"', "U+0078", "position 2");
  assertDatasetError(() => v.decode([0, 3]), "ids[1] = 3", "[0, 3)");
  assertDatasetError(() => v.decode([1.5]), "ids[0] = 1.5");
  assertDatasetError(() => new CharVocab(["b", "a"]), "chars[1]", "sorted");
  assertDatasetError(() => new CharVocab(["a", "a"]), "chars[1]", "unique");
  assertDatasetError(() => new CharVocab(["ab"]), "chars[0]", "single character");
  assertDatasetError(() => new CharVocab([]), "non-empty");
  assertDatasetError(() => CharVocab.fromText(""), "non-empty");
});

test("CharVocab round-trips through JSON", () => {
  const v = CharVocab.fromText("to be, or not\n");
  const json = JSON.stringify(v);
  assert.deepEqual(JSON.parse(json), { chars: ["\n", " ", ",", "b", "e", "n", "o", "r", "t"] });
  const v2 = CharVocab.fromJSON(JSON.parse(json));
  assert.deepEqual(v2.chars, v.chars);
  assert.deepEqual([...v2.encode("not to be")], [...v.encode("not to be")]);
  assertDatasetError(() => CharVocab.fromJSON({ letters: [] }), "chars");
});

test("loadCharCorpus splits off the last fraction as validation", () => {
  const file = path.join(tmp, "abc.txt");
  fs.writeFileSync(file, "abcdefghij");
  // N = 10, valFraction 0.2 → ⌊10·0.8⌋ = 8 train tokens, 2 val tokens (the tail "ij").
  const c = loadCharCorpus(file, { valFraction: 0.2 });
  assert.equal(c.vocab.size, 10);
  assert.equal(c.vocab.decode(c.train), "abcdefgh");
  assert.equal(c.vocab.decode(c.val), "ij");
  // Default 0.1: ⌊10·0.9⌋ = 9 train, 1 val.
  const d = loadCharCorpus(file);
  assert.equal(d.train.length, 9);
  assert.equal(d.val.length, 1);
  assert.equal(loadCharCorpus(file, { valFraction: 0 }).val.length, 0);
  assertDatasetError(() => loadCharCorpus(file, { valFraction: 1 }), "valFraction", "got 1");
  assertDatasetError(() => loadCharCorpus(file, { valFraction: 0.95 }), "no training tokens");
});

test("loadCharCorpus: empty, missing and non-UTF-8 files are errors naming the file", () => {
  const empty = path.join(tmp, "empty.txt");
  fs.writeFileSync(empty, "");
  assertDatasetError(() => loadCharCorpus(empty), empty, "empty");
  const missing = path.join(tmp, "missing.txt");
  assertDatasetError(() => loadCharCorpus(missing), missing, "cannot read");
  const binary = path.join(tmp, "binary.txt");
  fs.writeFileSync(binary, Uint8Array.of(0x61, 0xff, 0xfe, 0x62));
  assertDatasetError(() => loadCharCorpus(binary), binary, "UTF-8");
  assertDatasetError(() => loadCharCorpus(tmp), tmp, "cannot read"); // a directory
});

test("tiny Shakespeare matches nanoGPT's shakespeare_char numbers", () => {
  const { vocab, train, val } = loadCharCorpus(TINY_SHAKESPEARE_PATH);
  // nanoGPT prepare.py: "length of dataset in characters: 1,115,394", "vocab size: 65",
  // "train has 1,003,854 tokens", "val has 111,540 tokens".
  assert.equal(vocab.size, 65);
  assert.equal(train.length, 1003854);
  assert.equal(val.length, 111540);
  assert.equal(
    vocab.chars.join(""),
    "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
  );
  assert.equal(vocab.decode(train.subarray(0, 14)), "First Citizen:");
  // "F" is id 18: 13 punctuation/space/digit entries, then A..E = 13..17.
  assert.equal(train[0], 18);
});

test("lmBatch: targets are the inputs shifted by one", () => {
  const tokens = Int32Array.of(10, 11, 12, 13, 14, 15);
  // context 3: start 0 → x 10 11 12, y 11 12 13; start 2 → x 12 13 14, y 13 14 15
  const { x, y } = lmBatch(tokens, [0, 2], 3);
  assert.deepEqual([...x], [10, 11, 12, 12, 13, 14]);
  assert.deepEqual([...y], [11, 12, 13, 13, 14, 15]);
  // 6 tokens, context 3: starts 0..2 are valid (lmWindowCount = 3).
  assert.equal(lmWindowCount(tokens, 3), 3);
  assert.equal(lmWindowCount(6, 5), 1);
  assertDatasetError(() => lmBatch(tokens, [0, 3], 3), "starts[1] = 3", "[0, 2]");
  assertDatasetError(() => lmBatch(tokens, [-1], 3), "starts[0] = -1");
  assertDatasetError(() => lmBatch(tokens, [0], 0), "context", "got 0");
  assertDatasetError(() => lmBatch(tokens, [0], 6), "too short", "context 6");
});
