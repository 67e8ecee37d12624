/**
 * EfficientNet (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional
 * Neural Networks", ICML, arXiv:1905.11946) in tfjs-layers, following Keras's
 * `keras.applications.efficientnet` layer for layer, so that B0 with 1,000 classes has
 * Keras's 5,330,571 parameters.
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { batchNormalization } from "./normalization";
import { Normalization } from "./layers";
import { ConfigError } from "../core/errors";

type SymbolicTensor = tfl.SymbolicTensor;

/** One stage of Table 1 (a row of Keras's `DEFAULT_BLOCKS_ARGS`). */
export interface MBConvStage {
  /** Depthwise kernel size k (3 or 5). */
  kernelSize: number;
  /** Number of MBConv blocks L̂ᵢ before depth scaling. */
  repeats: number;
  /** Channels into the first block, before width scaling. */
  filtersIn: number;
  /** Channels out of every block, before width scaling. */
  filtersOut: number;
  /** Expansion ratio of the 1×1 expansion (1 = no expansion conv). */
  expandRatio: number;
  /** Stride of the first block's depthwise conv (later blocks: 1). */
  strides: number;
  /** Squeeze-excite ratio, relative to the block's input channels. */
  seRatio: number;
}

/**
 * EfficientNet-B0's seven MBConv stages (Tan & Le 2019, Table 1; Keras's
 * `DEFAULT_BLOCKS_ARGS`): operator MBConv{expand}, k×k, channels, layers, stride.
 */
export const EFFICIENTNET_B0_STAGES: readonly Readonly<MBConvStage>[] = Object.freeze([
  {
    kernelSize: 3,
    repeats: 1,
    filtersIn: 32,
    filtersOut: 16,
    expandRatio: 1,
    strides: 1,
    seRatio: 0.25,
  },
  {
    kernelSize: 3,
    repeats: 2,
    filtersIn: 16,
    filtersOut: 24,
    expandRatio: 6,
    strides: 2,
    seRatio: 0.25,
  },
  {
    kernelSize: 5,
    repeats: 2,
    filtersIn: 24,
    filtersOut: 40,
    expandRatio: 6,
    strides: 2,
    seRatio: 0.25,
  },
  {
    kernelSize: 3,
    repeats: 3,
    filtersIn: 40,
    filtersOut: 80,
    expandRatio: 6,
    strides: 2,
    seRatio: 0.25,
  },
  {
    kernelSize: 5,
    repeats: 3,
    filtersIn: 80,
    filtersOut: 112,
    expandRatio: 6,
    strides: 1,
    seRatio: 0.25,
  },
  {
    kernelSize: 5,
    repeats: 4,
    filtersIn: 112,
    filtersOut: 192,
    expandRatio: 6,
    strides: 2,
    seRatio: 0.25,
  },
  {
    kernelSize: 3,
    repeats: 1,
    filtersIn: 192,
    filtersOut: 320,
    expandRatio: 6,
    strides: 1,
    seRatio: 0.25,
  },
]);

/**
 * Keras's `round_filters`: scales a channel count by the width multiplier and rounds to a
 * multiple of `divisor`, never going below `divisor` or 90% of the scaled value:
 * `f' = max(8, ⌊(w·f + 4)/8⌋·8)`, plus 8 if `f' < 0.9·w·f`.
 *
 * @param filters channel count (integer ≥ 1).
 * @param widthCoefficient width multiplier w (> 0); B0: 1.0.
 * @param divisor rounding unit (default 8).
 * @returns the scaled channel count.
 * @throws Error on a non-positive argument.
 * @example
 * roundFilters(32, 1.1); // 35.2 → ⌊(35.2 + 4)/8⌋·8 = 32 ≥ 0.9·35.2, so 32 (B2's stem)
 */
export function roundFilters(filters: number, widthCoefficient: number, divisor = 8): number {
  if (!(filters > 0) || !(widthCoefficient > 0) || !(divisor > 0)) {
    throw new ConfigError(
      `roundFilters: arguments must be > 0, got filters ${filters}, widthCoefficient ${widthCoefficient}, divisor ${divisor}`,
    );
  }
  const f = filters * widthCoefficient;
  let n = Math.max(divisor, Math.floor((f + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * f) n += divisor;
  return n;
}

/**
 * Keras's `round_repeats`: `⌈d·repeats⌉` blocks for depth multiplier d.
 * @param repeats block count before scaling (integer ≥ 1).
 * @param depthCoefficient depth multiplier d (> 0); B0: 1.0.
 * @returns the scaled block count.
 * @throws Error on a non-positive argument.
 * @example
 * roundRepeats(3, 1.2); // ⌈3.6⌉ = 4 (B1)
 */
export function roundRepeats(repeats: number, depthCoefficient: number): number {
  if (!(repeats > 0) || !(depthCoefficient > 0)) {
    throw new ConfigError(
      `roundRepeats: arguments must be > 0, got repeats ${repeats}, depthCoefficient ${depthCoefficient}`,
    );
  }
  return Math.ceil(depthCoefficient * repeats);
}

/** Options of {@link efficientNet}. */
export interface EfficientNetOptions {
  /** [H, W, C] input; e.g. [224, 224, 3], [32, 32, 3], [28, 28, 1]. H, W ≥ 1. */
  inputShape: number[];
  /** Number of classes (logits); integer ≥ 2 when `includeTop`. Default 1000. */
  numClasses?: number;
  /** Width multiplier w (> 0). Default 1.0 (B0). */
  widthCoefficient?: number;
  /** Depth multiplier d (> 0). Default 1.0 (B0). */
  depthCoefficient?: number;
  /** Dropout before the classifier, in [0, 1). Default 0.2 (B0). */
  dropoutRate?: number;
  /** Final drop-connect (stochastic depth) rate, in [0, 1). Default 0.2. */
  dropConnectRate?: number;
  /** Global average pool + dropout + dense classifier. Default true. */
  includeTop?: boolean;
  /**
   * Keras's preprocessing stem: `Rescaling(1/255)` then `Normalization` (7 non-trainable
   * parameters for 3 channels: mean, variance, count). `true`: mean 0, variance 1;
   * or give the per-channel statistics of the 0–1 scaled input. Default false (the input
   * is used as given — batchwise's datasets are already scaled).
   */
  preprocessing?: boolean | { mean: number[]; variance: number[] };
  /**
   * Momentum of the batch-norm moving averages, in [0, 1). Default 0.99 (Keras). Short runs
   * (a few hundred steps) want ≈ 0.9: at 0.99 the moving statistics lag the changing network
   * and inference-mode outputs are poor although training-mode loss fell.
   */
  batchNormMomentum?: number;
  /** Seed for the initialisers (each layer gets seed + its index). Default 0. */
  seed?: number;
  /** Model name. Default `efficientnet`. */
  name?: string;
}

/** Parameter counts of an EfficientNet (see {@link efficientNetParamCount}). */
export interface ParamCount {
  total: number;
  trainable: number;
  nonTrainable: number;
}

interface ResolvedBlock {
  name: string;
  kernelSize: number;
  filtersIn: number;
  filtersOut: number;
  expandRatio: number;
  strides: number;
  seRatio: number;
  dropRate: number;
}

/** The blocks of a scaled network in order, as Keras's loop over `blocks_args` makes them. */
function resolveBlocks(w: number, d: number, dropConnectRate: number): ResolvedBlock[] {
  const total = EFFICIENTNET_B0_STAGES.reduce((n, s) => n + roundRepeats(s.repeats, d), 0);
  const out: ResolvedBlock[] = [];
  EFFICIENTNET_B0_STAGES.forEach((s, i) => {
    const reps = roundRepeats(s.repeats, d);
    for (let j = 0; j < reps; j++) {
      out.push({
        name: `block${i + 1}${String.fromCharCode(97 + j)}_`,
        kernelSize: s.kernelSize,
        filtersIn: j === 0 ? roundFilters(s.filtersIn, w) : roundFilters(s.filtersOut, w),
        filtersOut: roundFilters(s.filtersOut, w),
        expandRatio: s.expandRatio,
        strides: j === 0 ? s.strides : 1,
        seRatio: s.seRatio,
        dropRate: (dropConnectRate * out.length) / total,
      });
    }
  });
  return out;
}

function checkOptions(o: EfficientNetOptions): void {
  const s = o.inputShape;
  if (!Array.isArray(s) || s.length !== 3 || s.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new ConfigError(
      `efficientNet: inputShape must be 3 positive integers [H, W, C], got [${s}]`,
    );
  }
  const nc = o.numClasses ?? 1000;
  if ((o.includeTop ?? true) && (!Number.isInteger(nc) || nc < 2)) {
    throw new ConfigError(`efficientNet: numClasses must be an integer >= 2, got ${nc}`);
  }
  for (const [k, v] of [
    ["widthCoefficient", o.widthCoefficient ?? 1],
    ["depthCoefficient", o.depthCoefficient ?? 1],
  ] as const) {
    if (!(v > 0) || !Number.isFinite(v)) {
      throw new ConfigError(`efficientNet: ${k} must be a number > 0, got ${v}`);
    }
  }
  for (const [k, v] of [
    ["dropoutRate", o.dropoutRate ?? 0.2],
    ["dropConnectRate", o.dropConnectRate ?? 0.2],
    ["batchNormMomentum", o.batchNormMomentum ?? 0.99],
  ] as const) {
    if (!(v >= 0 && v < 1)) throw new ConfigError(`efficientNet: ${k} must be in [0, 1), got ${v}`);
  }
}

/**
 * Builds an EfficientNet classifier (B0 by default; other members by their width/depth
 * multipliers — B1 (1.0, 1.1), B2 (1.1, 1.2), …). Layer structure and names as Keras:
 *
 * ```text
 * stem:   conv3×3/2 round(32) → BN → swish
 * blocks: MBConv(k, expand e, stride s, SE 0.25):
 *           [1×1 conv e·cᵢₙ → BN → swish] → depthwise k×k/s → BN → swish
 *           → SE: GAP → 1×1 conv max(1, ⌊0.25·cᵢₙ⌋) swish → 1×1 conv e·cᵢₙ sigmoid → ×
 *           → 1×1 conv cₒᵤₜ → BN → [drop-connect → + input]   (when s = 1 and cᵢₙ = cₒᵤₜ)
 * top:    1×1 conv round(1280) → BN → swish → GAP → dropout → dense numClasses (logits)
 * ```
 *
 * Drop-connect rate of block b (0-based, of n): `dropConnectRate·b/n`, as Keras; it is
 * Keras's `Dropout(rate, noise_shape=(None, 1, 1, 1))` — whole examples of the residual
 * branch dropped and the rest scaled by 1/(1 − rate), only in training — which tfjs-layers'
 * `dropout` with `noiseShape: [null, 1, 1, 1]` reproduces.
 *
 * Departures from Keras, none changing the parameter count: the classifier outputs logits
 * (Keras applies softmax; batchwise's losses take logits); Keras pads stride-2 convs
 * explicitly (`correct_pad`) then uses `valid`, which equals TensorFlow's asymmetric `same`
 * padding for every input size (pad ⌊(k−1)/2⌋ or ⌊(k−2)/2⌋ before, the rest after) and is
 * written as `same` here; the preprocessing stem is optional (see `preprocessing`). BN
 * ε = 1e-3, momentum 0.99 (configurable: `batchNormMomentum`) and the variance-scaling
 * initialisers are Keras's.
 *
 * Small inputs work: 32×32 reaches 1×1 after the fifth stride-2 stage; 28×28×1
 * (Fashion-MNIST) likewise.
 *
 * @param opts see {@link EfficientNetOptions}.
 * @returns an un-compiled `LayersModel`, input [B, H, W, C] float32, output [B, numClasses]
 *   logits (or the [B, h, w, round(1280)] feature map without the top).
 * @throws Error naming the option for an invalid shape, class count, multiplier or rate.
 * @example
 * const model = efficientNet({ inputShape: [32, 32, 3], numClasses: 10 });
 * countParams(model); // 4,062,374 (4,020,358 trainable; B0 with a 10-class head)
 */
export function efficientNet(opts: EfficientNetOptions): tfl.LayersModel {
  checkOptions(opts);
  const w = opts.widthCoefficient ?? 1;
  const d = opts.depthCoefficient ?? 1;
  const seed = opts.seed ?? 0;
  let layerIndex = 0;
  const convInit = () =>
    tfl.initializers.varianceScaling({
      scale: 2,
      mode: "fanOut",
      distribution: "truncatedNormal",
      seed: seed + ++layerIndex,
    });
  const denseInit = () =>
    tfl.initializers.varianceScaling({
      scale: 1 / 3,
      mode: "fanOut",
      distribution: "uniform",
      seed: seed + ++layerIndex,
    });
  const ap = (layer: tfl.layers.Layer, x: SymbolicTensor | SymbolicTensor[]) =>
    layer.apply(x) as SymbolicTensor;
  const bn = (x: SymbolicTensor, name: string) =>
    ap(batchNormalization({ axis: -1, momentum: opts.batchNormMomentum ?? 0.99, name }), x);
  const act = (x: SymbolicTensor, name: string) =>
    ap(tfl.layers.activation({ activation: "swish", name }), x);
  const conv1x1 = (
    x: SymbolicTensor,
    filters: number,
    name: string,
    activation?: "swish" | "sigmoid",
  ) =>
    ap(
      tfl.layers.conv2d({
        filters,
        kernelSize: 1,
        padding: "same",
        useBias: activation != null,
        activation,
        kernelInitializer: convInit(),
        name,
      }),
      x,
    );

  const input = tfl.input({ shape: opts.inputShape, name: "input" });
  let x: SymbolicTensor = input;
  if (opts.preprocessing) {
    const stats = typeof opts.preprocessing === "object" ? opts.preprocessing : {};
    x = ap(tfl.layers.rescaling({ scale: 1 / 255, name: "rescaling" }), x);
    x = ap(new Normalization({ ...stats, name: "normalization" }), x);
  }
  x = ap(
    tfl.layers.conv2d({
      filters: roundFilters(32, w),
      kernelSize: 3,
      strides: 2,
      padding: "same",
      useBias: false,
      kernelInitializer: convInit(),
      name: "stem_conv",
    }),
    x,
  );
  x = act(bn(x, "stem_bn"), "stem_activation");

  for (const b of resolveBlocks(w, d, opts.dropConnectRate ?? 0.2)) {
    const p = b.name;
    const inputs = x;
    const filters = b.filtersIn * b.expandRatio;
    if (b.expandRatio !== 1) {
      x = act(bn(conv1x1(x, filters, `${p}expand_conv`), `${p}expand_bn`), `${p}expand_activation`);
    }
    x = ap(
      tfl.layers.depthwiseConv2d({
        kernelSize: b.kernelSize,
        strides: b.strides,
        padding: "same",
        useBias: false,
        depthwiseInitializer: convInit(),
        name: `${p}dwconv`,
      }),
      x,
    );
    x = act(bn(x, `${p}bn`), `${p}activation`);
    if (b.seRatio > 0 && b.seRatio <= 1) {
      const filtersSe = Math.max(1, Math.floor(b.filtersIn * b.seRatio));
      let se = ap(tfl.layers.globalAveragePooling2d({ name: `${p}se_squeeze` }), x);
      se = ap(tfl.layers.reshape({ targetShape: [1, 1, filters], name: `${p}se_reshape` }), se);
      se = conv1x1(se, filtersSe, `${p}se_reduce`, "swish");
      se = conv1x1(se, filters, `${p}se_expand`, "sigmoid");
      x = ap(tfl.layers.multiply({ name: `${p}se_excite` }), [x, se]);
    }
    x = bn(conv1x1(x, b.filtersOut, `${p}project_conv`), `${p}project_bn`);
    if (b.strides === 1 && b.filtersIn === b.filtersOut) {
      if (b.dropRate > 0) {
        x = ap(
          tfl.layers.dropout({
            rate: b.dropRate,
            // null = the batch size at call time (tfjs-layers resolves it as Keras does);
            // the typings say number[].
            noiseShape: [null, 1, 1, 1] as unknown as number[],
            name: `${p}drop`,
          }),
          x,
        );
      }
      x = ap(tfl.layers.add({ name: `${p}add` }), [x, inputs]);
    }
  }

  x = conv1x1(x, roundFilters(1280, w), "top_conv");
  x = act(bn(x, "top_bn"), "top_activation");
  if (opts.includeTop ?? true) {
    x = ap(tfl.layers.globalAveragePooling2d({ name: "avg_pool" }), x);
    const rate = opts.dropoutRate ?? 0.2;
    if (rate > 0) x = ap(tfl.layers.dropout({ rate, name: "top_dropout" }), x);
    x = ap(
      tfl.layers.dense({
        units: opts.numClasses ?? 1000,
        kernelInitializer: denseInit(),
        name: "predictions",
      }),
      x,
    );
  }
  return tfl.model({ name: opts.name ?? "efficientnet", inputs: input, outputs: x });
}

/**
 * EfficientNet-B0 (Tan & Le 2019, Table 1; w = d = 1.0, dropout 0.2, drop-connect 0.2):
 * {@link efficientNet} with B0's multipliers.
 *
 * @param opts as {@link EfficientNetOptions} without the multipliers.
 * @returns the model (4,062,374 parameters at 32×32×3 with 10 classes; 5,330,571 at
 *   224×224×3 with 1,000 classes and Keras's preprocessing).
 * @throws Error as {@link efficientNet}.
 * @example
 * const m = efficientNetB0({ inputShape: [28, 28, 1], numClasses: 10 });
 */
export function efficientNetB0(
  opts: Omit<EfficientNetOptions, "widthCoefficient" | "depthCoefficient">,
): tfl.LayersModel {
  return efficientNet({
    ...opts,
    widthCoefficient: 1,
    depthCoefficient: 1,
    name: opts.name ?? "efficientnetb0",
  });
}

/**
 * Parameter count of {@link efficientNet} from the architecture alone (no model built):
 *
 * ```text
 * conv k×k cᵢₙ→cₒᵤₜ: k²·cᵢₙ·cₒᵤₜ (+ cₒᵤₜ with bias);  depthwise k×k on c: k²·c
 * BN on c: 2c trainable (γ, β) + 2c non-trainable (moving mean, variance)
 * block: [1·cᵢₙ·e·cᵢₙ + BN(e·cᵢₙ)] + k²·e·cᵢₙ + BN(e·cᵢₙ)
 *        + SE: e·cᵢₙ·s + s + s·e·cᵢₙ + e·cᵢₙ  (s = max(1, ⌊0.25·cᵢₙ⌋)) + cₑcᵢₙ·cₒᵤₜ + BN(cₒᵤₜ)
 * stem: 9·C·round(32) + BN;  top: round(320)·round(1280) + BN + (1280·classes + classes)
 * preprocessing: 2C + 1 non-trainable
 * ```
 *
 * Independent of the input's height and width (global pooling before the classifier).
 *
 * @param opts the builder's options (only channels, classes, multipliers, top and
 *   preprocessing matter).
 * @returns `{total, trainable, nonTrainable}`; B0, 224×224×3, 1000 classes, Keras's
 *   preprocessing: 5,330,571 total (Keras's `EfficientNetB0().count_params()`).
 * @throws Error on invalid options (as {@link efficientNet}).
 * @example
 * efficientNetParamCount({ inputShape: [224, 224, 3], preprocessing: true }).total; // 5330571
 */
export function efficientNetParamCount(opts: EfficientNetOptions): ParamCount {
  checkOptions(opts);
  const w = opts.widthCoefficient ?? 1;
  const d = opts.depthCoefficient ?? 1;
  const c0 = opts.inputShape[2];
  let tr = 0;
  let nt = 0;
  const bnP = (c: number) => {
    tr += 2 * c;
    nt += 2 * c;
  };
  if (opts.preprocessing) nt += 2 * c0 + 1;
  const stem = roundFilters(32, w);
  tr += 9 * c0 * stem;
  bnP(stem);
  for (const b of resolveBlocks(w, d, 0)) {
    const f = b.filtersIn * b.expandRatio;
    if (b.expandRatio !== 1) {
      tr += b.filtersIn * f;
      bnP(f);
    }
    tr += b.kernelSize * b.kernelSize * f;
    bnP(f);
    if (b.seRatio > 0 && b.seRatio <= 1) {
      const s = Math.max(1, Math.floor(b.filtersIn * b.seRatio));
      tr += f * s + s + s * f + f;
    }
    tr += f * b.filtersOut;
    bnP(b.filtersOut);
  }
  const top = roundFilters(1280, w);
  tr += roundFilters(320, w) * top;
  bnP(top);
  if (opts.includeTop ?? true) {
    const k = opts.numClasses ?? 1000;
    tr += top * k + k;
  }
  return { total: tr + nt, trainable: tr, nonTrainable: nt };
}
