/**
 * Character-level language-modelling data, as in nanoGPT's `shakespeare_char` (Karpathy):
 * the vocabulary is the sorted set of characters of the corpus, each token one character,
 * the validation split is the last fraction of the text (contiguous), and a training example
 * is a window of `context` tokens whose targets are the same window shifted by one.
 *
 * "Character" means Unicode code point (as Python's `str`), so a character outside the
 * Basic Multilingual Plane is one token, not two UTF-16 halves; the sort is by code point,
 * so on tiny Shakespeare the ids equal nanoGPT's.
 */
import * as fs from "fs";
import * as path from "path";
import { DatasetError } from "../core/errors";

/** The vendored tiny Shakespeare corpus, `data/tinyshakespeare/input.txt` at the repo root. */
export const TINY_SHAKESPEARE_PATH = path.resolve(
  __dirname,
  "..",
  "..",
  "data",
  "tinyshakespeare",
  "input.txt",
);

function describe(cp: number): string {
  const hex = cp.toString(16).toUpperCase().padStart(4, "0");
  return `${JSON.stringify(String.fromCodePoint(cp))} (U+${hex})`;
}

/** The serialisable form of a {@link CharVocab}. */
export interface CharVocabJSON {
  /** The characters in id order: `chars[id]` is the character with that id. */
  chars: string[];
}

/**
 * A character vocabulary: id `i` is the `i`-th character in code-point order.
 * Immutable; serialises to `{chars}` with `JSON.stringify`, and back with
 * {@link CharVocab.fromJSON}.
 */
export class CharVocab {
  /** The characters in id order (strictly increasing code points). */
  readonly chars: readonly string[];
  private readonly bmp: Int32Array; // code point < 0x10000 → id, or -1
  private readonly astral = new Map<number, number>();

  /**
   * Creates a vocabulary from its characters.
   *
   * @param chars - Single Unicode characters (code points), strictly increasing by code
   *   point, at least one.
   * @throws {DatasetError} If `chars` is empty, an entry is not exactly one code point, or
   *   the entries are not strictly increasing (naming the entry and its position).
   * @example
   * ```ts
   * new CharVocab(["\n", " ", "a"]).size; // 3
   * ```
   */
  constructor(chars: readonly string[]) {
    if (!Array.isArray(chars) || chars.length === 0) {
      throw new DatasetError(`CharVocab: chars must be a non-empty array of characters`);
    }
    this.bmp = new Int32Array(0x10000).fill(-1);
    let prev = -1;
    chars.forEach((c, i) => {
      const cp = typeof c === "string" ? c.codePointAt(0) : undefined;
      if (cp === undefined || String.fromCodePoint(cp) !== c) {
        throw new DatasetError(
          `CharVocab: chars[${i}] = ${JSON.stringify(c)} is not a single character`,
        );
      }
      if (cp <= prev) {
        throw new DatasetError(
          `CharVocab: chars[${i}] = ${describe(cp)} is not after chars[${i - 1}] = ` +
            `${describe(prev)} (must be unique and sorted by code point)`,
        );
      }
      prev = cp;
      if (cp < 0x10000) this.bmp[cp] = i;
      else this.astral.set(cp, i);
    });
    this.chars = Object.freeze(chars.slice());
  }

  /**
   * Builds the vocabulary of a text: its distinct characters sorted by code point
   * (nanoGPT: `chars = sorted(list(set(data)))`).
   *
   * @param text - Non-empty text.
   * @returns The vocabulary.
   * @throws {DatasetError} If `text` is empty.
   * @example
   * ```ts
   * CharVocab.fromText("hello").chars; // ["e", "h", "l", "o"]
   * ```
   */
  static fromText(text: string): CharVocab {
    if (typeof text !== "string" || text.length === 0) {
      throw new DatasetError(`CharVocab.fromText: text must be a non-empty string`);
    }
    const seen = new Set<number>();
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i) as number;
      seen.add(cp);
      if (cp > 0xffff) i++;
    }
    const cps = [...seen].sort((a, b) => a - b);
    return new CharVocab(cps.map((cp) => String.fromCodePoint(cp)));
  }

  /**
   * Restores a vocabulary from its JSON form.
   *
   * @param json - `{chars: string[]}` as produced by `JSON.stringify(vocab)` and parsed.
   * @returns The vocabulary.
   * @throws {DatasetError} If `json` lacks a valid `chars` array.
   * @example
   * ```ts
   * const v2 = CharVocab.fromJSON(JSON.parse(JSON.stringify(vocab)));
   * ```
   */
  static fromJSON(json: unknown): CharVocab {
    const chars = (json as CharVocabJSON | null)?.chars;
    if (!Array.isArray(chars)) {
      throw new DatasetError(`CharVocab.fromJSON: expected {chars: string[]}`);
    }
    return new CharVocab(chars);
  }

  /** Number of distinct characters (the model's vocabulary size). */
  get size(): number {
    return this.chars.length;
  }

  /**
   * Maps each character of `text` to its id.
   *
   * @param text - Text using only characters of the vocabulary (may be empty).
   * @returns One id in `[0, size)` per code point of `text`.
   * @throws {DatasetError} Naming the first unknown character, its code point and position.
   * @example
   * ```ts
   * CharVocab.fromText("hello").encode("hole"); // Int32Array [1, 3, 2, 0]
   * ```
   */
  encode(text: string): Int32Array {
    const out = new Int32Array(text.length);
    let k = 0;
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i) as number;
      let id: number;
      if (cp < 0x10000) {
        id = this.bmp[cp];
      } else {
        id = this.astral.get(cp) ?? -1;
        i++;
      }
      if (id < 0) {
        throw new DatasetError(
          `encode: character ${describe(cp)} at position ${k} is not in the vocabulary ` +
            `of ${this.size} characters`,
        );
      }
      out[k++] = id;
    }
    return k === out.length ? out : out.slice(0, k);
  }

  /**
   * Maps ids back to text; `decode(encode(t)) === t`.
   *
   * @param ids - Integers in `[0, size)`.
   * @returns The text.
   * @throws {DatasetError} Naming the position and value of the first invalid id.
   * @example
   * ```ts
   * CharVocab.fromText("hello").decode([1, 3, 2, 0]); // "hole"
   * ```
   */
  decode(ids: ArrayLike<number>): string {
    const parts = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.chars.length) {
        throw new DatasetError(
          `decode: ids[${i}] = ${id} is not an integer in [0, ${this.chars.length})`,
        );
      }
      parts[i] = this.chars[id];
    }
    return parts.join("");
  }

  /** The serialisable form `{chars}` (used by `JSON.stringify`). */
  toJSON(): CharVocabJSON {
    return { chars: this.chars.slice() };
  }
}

/** Options for {@link loadCharCorpus}. */
export interface CharCorpusOptions {
  /** Fraction of the text held out for validation, from the end; in [0, 1), default 0.1. */
  valFraction?: number;
}

/** A tokenised character corpus split into train and validation tokens. */
export interface CharCorpus {
  /** The corpus's vocabulary (all of its characters). */
  vocab: CharVocab;
  /** The first `⌊N·(1 − valFraction)⌋` tokens. */
  train: Int32Array;
  /** The remaining tokens (contiguous tail of the corpus). */
  val: Int32Array;
}

/**
 * Reads a UTF-8 text file, builds its character vocabulary and splits the tokens into a
 * train head and a validation tail, as nanoGPT's `shakespeare_char/prepare.py`
 * (`train = data[:int(n*0.9)]`, `val = data[int(n*0.9):]`).
 *
 * @param file - Path of a non-empty UTF-8 text file, e.g. {@link TINY_SHAKESPEARE_PATH}.
 * @param options - `valFraction` in [0, 1) (default 0.1).
 * @returns `{vocab, train, val}`; `train.length = ⌊N·(1 − valFraction)⌋` with `N` the number
 *   of characters (tiny Shakespeare: N = 1,115,394 → 1,003,854 train + 111,540 val).
 * @throws {DatasetError} Naming the file if it cannot be read, is empty, or is not valid
 *   UTF-8; naming `valFraction` if it is outside [0, 1) or leaves no training tokens.
 * @example
 * ```ts
 * const { vocab, train, val } = loadCharCorpus(TINY_SHAKESPEARE_PATH);
 * vocab.size; // 65
 * ```
 */
export function loadCharCorpus(file: string, options: CharCorpusOptions = {}): CharCorpus {
  const { valFraction = 0.1 } = options;
  if (typeof valFraction !== "number" || !(valFraction >= 0 && valFraction < 1)) {
    throw new DatasetError(`valFraction must be a number in [0, 1), got ${valFraction}`);
  }
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new DatasetError(`${file}: cannot read file (${(e as Error).message})`, { cause: e });
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    throw new DatasetError(`${file}: not valid UTF-8 text (${(e as Error).message})`, {
      cause: e,
    });
  }
  if (text.length === 0) throw new DatasetError(`${file}: empty file (no characters)`);
  const vocab = CharVocab.fromText(text);
  const tokens = vocab.encode(text);
  const nTrain = Math.floor(tokens.length * (1 - valFraction));
  if (nTrain < 1) {
    throw new DatasetError(
      `${file}: valFraction ${valFraction} leaves no training tokens (${tokens.length} in all)`,
    );
  }
  return { vocab, train: tokens.slice(0, nTrain), val: tokens.slice(nTrain) };
}

/**
 * Number of windows of `context` tokens (plus the one-token-shifted targets) in a token
 * sequence: the valid start offsets for {@link lmBatch} are `0 … count − 1`.
 *
 * @param tokens - Token ids (or just their count).
 * @param context - Window length, integer ≥ 1.
 * @returns `tokens.length − context` (≥ 1).
 * @throws {DatasetError} If `context` is invalid or the sequence has ≤ `context` tokens.
 * @example
 * ```ts
 * lmWindowCount(new Int32Array(10), 4); // 6: starts 0..5 (window 5..8, targets 6..9)
 * ```
 */
export function lmWindowCount(tokens: ArrayLike<number> | number, context: number): number {
  const len = typeof tokens === "number" ? tokens : tokens.length;
  if (!Number.isInteger(context) || context < 1) {
    throw new DatasetError(`context must be an integer >= 1, got ${context}`);
  }
  if (len <= context) {
    throw new DatasetError(
      `token sequence of length ${len} is too short for context ${context} ` +
        `(needs at least ${context + 1} tokens)`,
    );
  }
  return len - context;
}

/**
 * Gathers language-model windows: inputs `x[b, t] = tokens[s_b + t]` and targets
 * `y[b, t] = tokens[s_b + t + 1]` for `t < context` (nanoGPT's `get_batch` with given starts).
 *
 * @param tokens - Token ids.
 * @param starts - `B` window starts, each an integer in `[0, tokens.length − context − 1]`.
 * @param context - Window length (sequence length), integer ≥ 1.
 * @returns `{x, y}`, each `B·context` ids, row-major `[B, context]`.
 * @throws {DatasetError} If `context` is invalid, or naming the position and value of the
 *   first start out of range.
 * @example
 * ```ts
 * lmBatch(Int32Array.of(10, 11, 12, 13), [1], 2); // x = [11, 12], y = [12, 13]
 * ```
 */
export function lmBatch(
  tokens: Int32Array,
  starts: ArrayLike<number>,
  context: number,
): { x: Int32Array; y: Int32Array } {
  const maxStart = lmWindowCount(tokens, context) - 1;
  const b = starts.length;
  const x = new Int32Array(b * context);
  const y = new Int32Array(b * context);
  for (let k = 0; k < b; k++) {
    const s = starts[k];
    if (!Number.isInteger(s) || s < 0 || s > maxStart) {
      throw new DatasetError(
        `lmBatch: starts[${k}] = ${s} is not an integer in [0, ${maxStart}] ` +
          `(${tokens.length} tokens, context ${context})`,
      );
    }
    x.set(tokens.subarray(s, s + context), k * context);
    y.set(tokens.subarray(s + 1, s + context + 1), k * context);
  }
  return { x, y };
}
