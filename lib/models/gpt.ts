/**
 * A GPT-style character-level language model (decoder-only transformer): Radford et al.
 * 2018/2019 (GPT, GPT-2) with pre-layer-norm blocks, as in Karpathy's nanoGPT
 * `shakespeare_char` configuration, scaled to what the wasm backend trains in seconds.
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { CausalSelfAttention, PositionEmbedding } from "./layers";
import { layerNormalization } from "./normalization";
import { ConfigError } from "../core/errors";

type SymbolicTensor = tfl.SymbolicTensor;

/** Options of {@link gptLm}. */
export interface GptOptions {
  /** Vocabulary size V (tiny Shakespeare: 65); integer ≥ 2. */
  vocabSize: number;
  /** Context length T (tokens per example; the position table's rows); integer ≥ 1. */
  context: number;
  /** Number of transformer blocks L; integer ≥ 1. Default 4. */
  layers?: number;
  /** Attention heads h per block; must divide `width`. Default 4. */
  heads?: number;
  /** Model width d (embedding size); integer ≥ 1. Default 128. */
  width?: number;
  /** Dropout on attention weights, residual branches and embeddings, [0, 1). Default 0. */
  dropout?: number;
  /** Seed for the initialisers. Default 0. */
  seed?: number;
}

interface Resolved {
  vocabSize: number;
  context: number;
  layers: number;
  heads: number;
  width: number;
  dropout: number;
}

function resolve(o: GptOptions): Resolved {
  const r = {
    vocabSize: o.vocabSize,
    context: o.context,
    layers: o.layers ?? 4,
    heads: o.heads ?? 4,
    width: o.width ?? 128,
    dropout: o.dropout ?? 0,
  };
  const mins: Record<string, number> = { vocabSize: 2, context: 1, layers: 1, heads: 1, width: 1 };
  for (const [k, min] of Object.entries(mins)) {
    const v = r[k as keyof Resolved];
    if (!Number.isInteger(v) || v < min) {
      throw new ConfigError(`gptLm: ${k} must be an integer >= ${min}, got ${v}`);
    }
  }
  if (r.width % r.heads !== 0) {
    throw new ConfigError(`gptLm: width ${r.width} must be a multiple of heads ${r.heads}`);
  }
  if (!(r.dropout >= 0 && r.dropout < 1)) {
    throw new ConfigError(`gptLm: dropout must be in [0, 1), got ${r.dropout}`);
  }
  return r;
}

/**
 * Builds the decoder:
 *
 * ```text
 * x = E_tok[tokens] + E_pos[0..T)                                  [B, T, d]
 * L × (pre-LN block):  x ← x + Attn(LN(x));  x ← x + W₂ GELU(W₁ LN(x) + b₁) + b₂   (4d hidden)
 * logits = LN(x) W_head + b_head                                   [B, T, V]
 * ```
 *
 * Attention is {@link CausalSelfAttention} (position t sees positions ≤ t). Initialisation
 * as GPT-2/nanoGPT: weights N(0, 0.02), the two residual output projections of each block
 * N(0, 0.02/√(2L)), biases 0, LayerNorm γ = 1, β = 0 (ε = 1e-5).
 *
 * Departures from nanoGPT: the head is not tied to the token embedding and has a bias
 * (nanoGPT ties them); GELU is the exact erf form (tfjs-layers' `gelu`), as PyTorch's
 * `nn.GELU()` that nanoGPT uses.
 *
 * @param opts see {@link GptOptions}.
 * @returns an un-compiled `LayersModel`: input int32 [B, T] token ids → logits [B, T, V].
 *   With batchwise's `languageModelTask(T, V)`.
 * @throws Error naming the option for a non-integer or out-of-range size, heads not dividing
 *   the width, or a dropout outside [0, 1).
 * @example
 * const lm = gptLm({ vocabSize: 65, context: 128, layers: 4, heads: 4, width: 128 });
 * gptParamCount({ vocabSize: 65, context: 128 }); // 826,433
 */
export function gptLm(opts: GptOptions): tfl.LayersModel {
  const r = resolve(opts);
  const seed = opts.seed ?? 0;
  let li = 0;
  const normal = (stddev: number) => tfl.initializers.randomNormal({ stddev, seed: seed + ++li });
  const ap = (layer: tfl.layers.Layer, x: SymbolicTensor | SymbolicTensor[]) =>
    layer.apply(x) as SymbolicTensor;
  const ln = (x: SymbolicTensor, name: string) =>
    ap(layerNormalization({ axis: -1, epsilon: 1e-5, name }), x);
  const drop = (x: SymbolicTensor, name: string) =>
    r.dropout > 0 ? ap(tfl.layers.dropout({ rate: r.dropout, name }), x) : x;
  const residStd = 0.02 / Math.sqrt(2 * r.layers);

  const input = tfl.input({ shape: [r.context], dtype: "int32", name: "tokens" });
  let x = ap(
    tfl.layers.embedding({
      inputDim: r.vocabSize,
      outputDim: r.width,
      embeddingsInitializer: normal(0.02),
      name: "tok_emb",
    }),
    input,
  );
  x = ap(
    new PositionEmbedding({ maxLength: r.context, initializer: normal(0.02), name: "pos_emb" }),
    x,
  );
  x = drop(x, "emb_drop");
  for (let l = 0; l < r.layers; l++) {
    const p = `h${l}_`;
    let h = ln(x, `${p}ln1`);
    h = ap(
      new CausalSelfAttention({
        heads: r.heads,
        dropout: r.dropout,
        kernelInitializer: normal(0.02),
        projInitializer: normal(residStd),
        name: `${p}attn`,
      }),
      h,
    );
    x = ap(tfl.layers.add({ name: `${p}add1` }), [x, h]);
    h = ln(x, `${p}ln2`);
    h = ap(
      tfl.layers.dense({
        units: 4 * r.width,
        activation: "gelu",
        kernelInitializer: normal(0.02),
        name: `${p}mlp_fc`,
      }),
      h,
    );
    h = ap(
      tfl.layers.dense({
        units: r.width,
        kernelInitializer: normal(residStd),
        name: `${p}mlp_proj`,
      }),
      h,
    );
    h = drop(h, `${p}mlp_drop`);
    x = ap(tfl.layers.add({ name: `${p}add2` }), [x, h]);
  }
  x = ln(x, "ln_f");
  const logits = ap(
    tfl.layers.dense({ units: r.vocabSize, kernelInitializer: normal(0.02), name: "head" }),
    x,
  );
  return tfl.model({ name: "gpt_lm", inputs: input, outputs: logits });
}

/**
 * Parameter count of {@link gptLm}:
 * `V·d + T·d + L·(12d² + 13d) + 2d + d·V + V`
 * (embeddings; per block LN 2d, QKV 3d² + 3d, output projection d² + d, LN 2d, MLP
 * 4d² + 4d and 4d² + d; final LN 2d; head d·V + V). All trainable.
 *
 * @param opts the builder's options (defaults as {@link gptLm}).
 * @returns the number of parameters.
 * @throws Error on invalid options (as {@link gptLm}).
 * @example
 * gptParamCount({ vocabSize: 65, context: 128 }); // 65·128 + 128·128 + 4·(12·128² + 13·128) + 256 + 128·65 + 65 = 826,433
 */
export function gptParamCount(opts: GptOptions): number {
  const { vocabSize: V, context: T, layers: L, width: d } = resolve(opts);
  return V * d + T * d + L * (12 * d * d + 13 * d) + 2 * d + d * V + V;
}

/**
 * Forward FLOPs per sequence of {@link gptLm}, counting multiply-adds as 2: the matmuls
 * (2·T·(12·L·d² + d·V)) plus attention's two T×T products (2·L·2·T²·d, all T² entries —
 * the masked half is computed too).
 *
 * @param opts the builder's options.
 * @returns FLOPs of one forward pass over one sequence of `context` tokens.
 * @throws Error on invalid options.
 * @example
 * gptForwardFlops({ vocabSize: 65, context: 128 }); // ≈ 2.37e8
 */
export function gptForwardFlops(opts: GptOptions): number {
  const { vocabSize: V, context: T, layers: L, width: d } = resolve(opts);
  return 2 * T * (12 * L * d * d + d * V) + 2 * L * 2 * T * T * d;
}
