/**
 * ResNet-18 and ResNet-34 in the CIFAR form (He, Zhang, Ren, Sun 2016, "Deep Residual
 * Learning for Image Recognition", CVPR, arXiv:1512.03385, Table 1's basic-block networks),
 * with the small-image stem that CIFAR training commonly uses (kuangliu/pytorch-cifar;
 * DAWNBench entries): a 3×3 stride-1 convolution and no max-pool, so a 32×32 input keeps
 * its resolution through the first stage.
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { batchNormalization } from "./normalization";
import type { ParamCount } from "./efficientnet";
import { ConfigError } from "../core/errors";

type SymbolicTensor = tfl.SymbolicTensor;

/** Basic blocks per stage (Table 1): ResNet-18 [2, 2, 2, 2], ResNet-34 [3, 4, 6, 3]. */
export const RESNET_STAGES: Readonly<Record<18 | 34, readonly number[]>> = Object.freeze({
  18: Object.freeze([2, 2, 2, 2]),
  34: Object.freeze([3, 4, 6, 3]),
});

const WIDTHS = [64, 128, 256, 512];

/** Options of {@link resnetCifar}. */
export interface ResNetOptions {
  /** 18 or 34. */
  depth: 18 | 34;
  /** [H, W, C] input, e.g. [32, 32, 3]; H, W ≥ 1. */
  inputShape: number[];
  /** Number of classes (logits); integer ≥ 2. */
  numClasses: number;
  /** Seed for the He-normal initialisers (layer i gets seed + i). Default 0. */
  seed?: number;
}

function check(o: ResNetOptions): void {
  if (o.depth !== 18 && o.depth !== 34) {
    throw new ConfigError(`resnetCifar: depth must be 18 or 34, got ${o.depth}`);
  }
  const s = o.inputShape;
  if (!Array.isArray(s) || s.length !== 3 || s.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new ConfigError(
      `resnetCifar: inputShape must be 3 positive integers [H, W, C], got [${s}]`,
    );
  }
  if (!Number.isInteger(o.numClasses) || o.numClasses < 2) {
    throw new ConfigError(`resnetCifar: numClasses must be an integer >= 2, got ${o.numClasses}`);
  }
}

/**
 * Builds a CIFAR-form ResNet-18/34:
 *
 * ```text
 * stem:  conv3×3 64, stride 1 → BN → ReLU                  (no max-pool)
 * stage i = 1..4 (widths 64, 128, 256, 512; stride 1, 2, 2, 2 on the first block):
 *        basic block: conv3×3/s → BN → ReLU → conv3×3 → BN → (+ shortcut) → ReLU
 *        shortcut: identity, or conv1×1/s → BN when the stride or width changes
 *                  (the paper's option B, projection only where shapes change)
 * head:  global average pool → dense numClasses (logits)
 * ```
 *
 * Convolutions have no bias (BN follows). Departures from the ImageNet ResNet: the stem
 * (7×7/2 conv + 3×3/2 max-pool replaced by a 3×3/1 conv), as for CIFAR in pytorch-cifar.
 *
 * @param opts see {@link ResNetOptions}.
 * @returns an un-compiled `LayersModel`: input [B, H, W, C] float32 → logits [B, numClasses].
 * @throws Error naming the option for an invalid depth, shape or class count.
 * @example
 * const m = resnetCifar({ depth: 18, inputShape: [32, 32, 3], numClasses: 10 });
 * resnetParamCount({ depth: 18, inputShape: [32, 32, 3], numClasses: 10 }).trainable; // 11,173,962
 */
export function resnetCifar(opts: ResNetOptions): tfl.LayersModel {
  check(opts);
  const seed = opts.seed ?? 0;
  let li = 0;
  const ap = (layer: tfl.layers.Layer, x: SymbolicTensor | SymbolicTensor[]) =>
    layer.apply(x) as SymbolicTensor;
  const conv = (x: SymbolicTensor, filters: number, k: number, s: number, name: string) =>
    ap(
      tfl.layers.conv2d({
        filters,
        kernelSize: k,
        strides: s,
        padding: "same",
        useBias: false,
        kernelInitializer: tfl.initializers.heNormal({ seed: seed + ++li }),
        name,
      }),
      x,
    );
  const bn = (x: SymbolicTensor, name: string) =>
    ap(batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name }), x);
  const relu = (x: SymbolicTensor, name: string) =>
    ap(tfl.layers.activation({ activation: "relu", name }), x);

  const input = tfl.input({ shape: opts.inputShape, name: "input" });
  let x = relu(bn(conv(input, 64, 3, 1, "stem_conv"), "stem_bn"), "stem_relu");
  let cin = 64;
  RESNET_STAGES[opts.depth].forEach((blocks, i) => {
    const cout = WIDTHS[i];
    for (let j = 0; j < blocks; j++) {
      const s = j === 0 && i > 0 ? 2 : 1;
      const p = `stage${i + 1}_block${j + 1}_`;
      let h = relu(bn(conv(x, cout, 3, s, `${p}conv1`), `${p}bn1`), `${p}relu1`);
      h = bn(conv(h, cout, 3, 1, `${p}conv2`), `${p}bn2`);
      const shortcut =
        s !== 1 || cin !== cout ? bn(conv(x, cout, 1, s, `${p}proj_conv`), `${p}proj_bn`) : x;
      x = relu(ap(tfl.layers.add({ name: `${p}add` }), [h, shortcut]), `${p}relu2`);
      cin = cout;
    }
  });
  x = ap(tfl.layers.globalAveragePooling2d({ name: "avg_pool" }), x);
  x = ap(
    tfl.layers.dense({
      units: opts.numClasses,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + ++li }),
      name: "fc",
    }),
    x,
  );
  return tfl.model({ name: `resnet${opts.depth}_cifar`, inputs: input, outputs: x });
}

/**
 * Parameter count of {@link resnetCifar} from the architecture:
 *
 * ```text
 * stem: 9·C·64 + BN(64)
 * basic block cᵢₙ → c (stride s): 9·cᵢₙ·c + BN(c) + 9·c² + BN(c) [+ cᵢₙ·c + BN(c) if s ≠ 1 or cᵢₙ ≠ c]
 * head: 512·K + K;   BN(c) = 2c trainable (γ, β) + 2c non-trainable (moving mean, variance)
 * ```
 *
 * @param opts depth, input channels and classes (height and width do not matter).
 * @returns `{total, trainable, nonTrainable}`. CIFAR-10 (C = 3, K = 10): ResNet-18 has
 *   11,173,962 trainable parameters (PyTorch's count for pytorch-cifar's ResNet18, whose BN
 *   statistics are buffers, not parameters) + 9,600 BN statistics; ResNet-34 21,282,122 +
 *   17,024.
 * @throws Error on invalid options (as {@link resnetCifar}).
 * @example
 * resnetParamCount({ depth: 34, inputShape: [32, 32, 3], numClasses: 10 }).trainable; // 21282122
 */
export function resnetParamCount(opts: ResNetOptions): ParamCount {
  check(opts);
  let tr = 9 * opts.inputShape[2] * 64 + 2 * 64;
  let nt = 2 * 64;
  let cin = 64;
  RESNET_STAGES[opts.depth].forEach((blocks, i) => {
    const c = WIDTHS[i];
    for (let j = 0; j < blocks; j++) {
      const s = j === 0 && i > 0 ? 2 : 1;
      tr += 9 * cin * c + 9 * c * c + 4 * c;
      nt += 4 * c;
      if (s !== 1 || cin !== c) {
        tr += cin * c + 2 * c;
        nt += 2 * c;
      }
      cin = c;
    }
  });
  tr += 512 * opts.numClasses + opts.numClasses;
  return { total: tr + nt, trainable: tr, nonTrainable: nt };
}
