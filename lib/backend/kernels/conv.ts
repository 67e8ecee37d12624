/**
 * Convolution gradient kernels for the tfjs `wasm` backend, written as calls to the fast
 * XNNPACK-backed forward `Conv2D` / `DepthwiseConv2dNative` and `BatchMatMul` kernels.
 *
 * Notation (NHWC): x [N,H,W,Ci], filter W [fh,fw,Ci,Co], dy [N,Ho,Wo,Co], stride s,
 * padding (pt, pb, pl, pr) as tfjs computes it (`backend_util.computeConv2DInfo`).
 *
 * - Conv2DBackpropFilter: dW[kh,kw,ci,co] = Σ_{n,i,j} x[n, i·s+kh−pt, j·s+kw−pl, ci] dy[n,i,j,co].
 *   With the roles swapped — x as a batch of Ci images of N channels, dy as an Ho×Wo filter
 *   with N input and Co output channels, dilation s, stride 1 — this is one forward Conv2D
 *   whose output [Ci,fh,fw,Co] is transposed to [fh,fw,Ci,Co]. 1×1 stride-1 filters are the
 *   matmul Xᵀ·dY over the N·H·W rows.
 * - Conv2DBackpropInput: 1×1 stride-1 filters are the matmul dY·Wᵀ over the N·H·W rows;
 *   otherwise dx = Conv2D(spread_s(dy), flip(W)ᵀ) with stride 1, where spread_s
 *   inserts s−1 zeros between dy's rows and columns, flip reverses the filter spatially and
 *   ᵀ swaps its in/out channels; the padding is (fh−1−pt) before and whatever makes the
 *   output H×W after (negative = crop).
 * - DepthwiseConv2dNativeBackpropInput: the same with the depthwise forward kernel; the
 *   channel multiplier m is folded by summing dy·flip(W) over m.
 *
 * Only dilation 1 (the case training uses) is mapped; other cases raise an error naming the
 * kernel and attribute.
 */
import * as tf from "@tensorflow/tfjs-core";
import { backend_util } from "@tensorflow/tfjs-core";
import { heapOffset, wasmInternals } from "../wasm-module";
import { simdKernels } from "../simd";
import { BackendError } from "../../core/errors";

/**
 * Up to this many input channels, Conv2DBackpropFilter runs the SIMD loop of
 * asm/kernels.ts (vectorised over output channels): the XNNPACK mapping then has only
 * fh·fw·Ci output pixels and runs at ≈2 GFLOP/s (first conv of the CNN at B = 512: 107 ms).
 * 1×1 filters take the same loop: the alternative Xᵀ·dY needs a transpose of the tall X and an
 * XNNPACK GEMM with K = N·H·W that ran at ≈2 GFLOP/s (MBConv [64,32,32,96]: 85 + 92 ms).
 */
export const SMALL_C_MAX_IN_CHANNELS = 4;

/**
 * 1×1 stride-1 Conv2DBackpropInput runs as a matmul dY·Wᵀ below this many pixels per image
 * (H·W) and as a 1×1 forward conv with the channel-swapped filter from here up (measured
 * crossover between 8×8 and 32×32).
 */
export const MATMUL_MAX_PIXELS = 256;

type Pads = { top: number; bottom: number; left: number; right: number };

/** Pads (positive) or crops (negative) the spatial dims of an NHWC tensor. */
export function padOrCrop(x: tf.Tensor4D, p: Pads): tf.Tensor4D {
  return tf.tidy(() => {
    let y = x;
    const cropT = Math.max(0, -p.top);
    const cropB = Math.max(0, -p.bottom);
    const cropL = Math.max(0, -p.left);
    const cropR = Math.max(0, -p.right);
    if (cropT + cropB + cropL + cropR > 0) {
      const [n, h, w, c] = y.shape;
      y = tf.slice(y, [0, cropT, cropL, 0], [n, h - cropT - cropB, w - cropL - cropR, c]);
    }
    const pt = Math.max(0, p.top);
    const pb = Math.max(0, p.bottom);
    const pl = Math.max(0, p.left);
    const pr = Math.max(0, p.right);
    if (pt + pb + pl + pr > 0) {
      y = tf.pad(y, [
        [0, 0],
        [pt, pb],
        [pl, pr],
        [0, 0],
      ]);
    }
    return y;
  });
}

/**
 * Inserts (s−1) zeros between consecutive rows (sh) and columns (sw) of an NHWC tensor:
 * [N,H,W,C] → [N,(H−1)·sh+1,(W−1)·sw+1,C].
 */
export function spread(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x.clone();
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    let y: tf.Tensor = x;
    if (sh > 1) {
      const z = tf.zeros([n, h, sh - 1, w, c]);
      y = tf.reshape(tf.concat([tf.reshape(y, [n, h, 1, w, c]), z], 2), [n, h * sh, w, c]);
      y = tf.slice(y, [0, 0, 0, 0], [n, (h - 1) * sh + 1, w, c]);
    }
    const h2 = y.shape[1] as number;
    if (sw > 1) {
      const z = tf.zeros([n, h2, w, sw - 1, c]);
      y = tf.reshape(tf.concat([tf.reshape(y, [n, h2, w, 1, c]), z], 3), [n, h2, w * sw, c]);
      y = tf.slice(y, [0, 0, 0, 0], [n, h2, (w - 1) * sw + 1, c]);
    }
    return y as tf.Tensor4D;
  });
}

function requireNoDilation(kernel: string, info: backend_util.Conv2DInfo): void {
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new BackendError(
      `${kernel} (batchwise wasm kernel): dilations ${info.dilationHeight}x${info.dilationWidth} are not supported (only 1)`,
    );
  }
  if (info.dataFormat !== "channelsLast") {
    throw new BackendError(
      `${kernel} (batchwise wasm kernel): dataFormat ${info.dataFormat} is not supported (only NHWC)`,
    );
  }
}

/** dW of a 2-D convolution; see the module comment for the mapping. */
export function conv2dBackpropFilterImpl(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  info: backend_util.Conv2DInfo,
): tf.Tensor4D {
  requireNoDilation("Conv2DBackpropFilter", info);
  const [fh, fw, ci, co] = filterShape;
  const s = info.strideHeight;
  const sw = info.strideWidth;
  return tf.tidy(() => {
    const [n, h, w] = x.shape;
    const [, ho, wo] = dy.shape;
    if (
      fh === 1 &&
      fw === 1 &&
      s === 1 &&
      sw === 1 &&
      info.padInfo.top === 0 &&
      info.padInfo.left === 0
    ) {
      const xm = tf.reshape(x, [n * h * w, ci]);
      const dym = tf.reshape(dy, [n * ho * wo, co]);
      return tf.reshape(tf.matMul(xm, dym, true, false), [1, 1, ci, co]);
    }
    const pt = info.padInfo.top;
    const pl = info.padInfo.left;
    // Output height of the swapped conv is H + pt + pb' − s(Ho−1); choose pb' so it is fh.
    const pb = fh - h - pt + s * (ho - 1);
    const pr = fw - w - pl + sw * (wo - 1);
    const xs = tf.transpose(x, [3, 1, 2, 0]); // [Ci, H, W, N]
    const xp = padOrCrop(xs, { top: pt, bottom: pb, left: pl, right: pr });
    const f = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, Co]
    const out = tf.conv2d(xp, f, 1, "valid", "NHWC", [s, sw]); // [Ci, fh, fw, Co]
    return tf.transpose(out, [1, 2, 0, 3]);
  });
}

/** dx of a 2-D convolution; see the module comment for the mapping. */
export function conv2dBackpropInputImpl(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  info: backend_util.Conv2DInfo,
): tf.Tensor4D {
  requireNoDilation("Conv2DBackpropInput", info);
  const [fh, fw, ci, co] = filter.shape;
  const [n, h, w] = inputShape;
  return tf.tidy(() => {
    if (
      fh === 1 &&
      fw === 1 &&
      info.strideHeight === 1 &&
      info.strideWidth === 1 &&
      info.padInfo.top === 0 &&
      info.padInfo.left === 0
    ) {
      // 1×1 stride 1: dx = dY·Wᵀ over the N·H·W rows — no filter flip (the stock Reverse
      // took 5 ms on a [1,1,192,1152] filter). Measured per call: [64,8,8,144] ← 24 channels
      // 1.1 ms as a matmul vs 1.9 ms as a 1×1 conv; [64,32,32,16] ← 96: 12.2 vs 11.4 ms, so
      // large images take XNNPACK's 1×1 conv with the channel-swapped filter.
      const wt = tf.transpose(tf.reshape(filter, [ci, co])); // [Co, Ci]
      if (h * w >= MATMUL_MAX_PIXELS) {
        return tf.conv2d(dy, tf.reshape(wt, [1, 1, co, ci]) as tf.Tensor4D, 1, "valid");
      }
      const dym = tf.reshape(dy, [n * h * w, co]);
      return tf.reshape(tf.matMul(dym, wt), [n, h, w, ci]) as tf.Tensor4D;
    }
    const ds = spread(dy, info.strideHeight, info.strideWidth);
    const [, hs, ws] = ds.shape;
    const pt = fh - 1 - info.padInfo.top;
    const pl = fw - 1 - info.padInfo.left;
    const pb = h - hs - pt + fh - 1;
    const pr = w - ws - pl + fw - 1;
    const dp = padOrCrop(ds, { top: pt, bottom: pb, left: pl, right: pr });
    const wf = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]); // [fh,fw,Co,Ci]
    return tf.conv2d(dp, wf, 1, "valid");
  });
}

/**
 * dx of a depthwise convolution. filter [fh,fw,C,m], dy [N,Ho,Wo,C·m] (channel c·m+k).
 * dx[n,h,w,c] = Σ_k Σ_{kh,kw} dyS[n, h+kh', w+kw', c·m+k] · flip(W)[kh',kw',c,k].
 * For m = 1 this is one depthwise conv of the spread, padded dy with the flipped filter; for
 * m > 1 it is a depthwise conv with the filter reshaped to [fh,fw,C·m,1] followed by a sum
 * over the m outputs of each input channel.
 */
export function depthwiseBackpropInputImpl(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  info: backend_util.Conv2DInfo,
): tf.Tensor4D {
  requireNoDilation("DepthwiseConv2dNativeBackpropInput", info);
  const [fh, fw, c, m] = filter.shape;
  const [n, h, w] = inputShape;
  return tf.tidy(() => {
    const ds = spread(dy, info.strideHeight, info.strideWidth);
    const [, hs, ws] = ds.shape;
    const pt = fh - 1 - info.padInfo.top;
    const pl = fw - 1 - info.padInfo.left;
    const pb = h - hs - pt + fh - 1;
    const pr = w - ws - pl + fw - 1;
    const dp = padOrCrop(ds, { top: pt, bottom: pb, left: pl, right: pr });
    const wf = tf.reverse(filter, [0, 1]);
    if (m === 1) return tf.depthwiseConv2d(dp, wf as tf.Tensor4D, 1, "valid");
    const out = tf.depthwiseConv2d(
      dp,
      tf.reshape(wf, [fh, fw, c * m, 1]) as tf.Tensor4D,
      1,
      "valid",
    );
    return tf.sum(tf.reshape(out, [n, h, w, c, m]), 4) as tf.Tensor4D;
  });
}

/* ----------------------------------------------------------------------------------------- */
/* Kernel configs                                                                              */
/* ----------------------------------------------------------------------------------------- */

type Attrs = Record<string, unknown>;

function convInfoFor(
  xShape: number[],
  filterShape: number[],
  attrs: Attrs,
  depthwise: boolean,
): backend_util.Conv2DInfo {
  const dataFormat = backend_util.convertConv2DDataFormat(
    (attrs.dataFormat as "NHWC" | "NCHW") ?? "NHWC",
  );
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number],
    (attrs.dilations as [number, number]) ?? 1,
    attrs.pad as "same" | "valid",
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
    depthwise,
    dataFormat,
  );
}

/** Conv2DBackpropFilter (missing in tfjs-backend-wasm). */
export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: "Conv2DBackpropFilter",
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { x, dy } = inputs as { x: tf.Tensor4D; dy: tf.Tensor4D };
    const a = attrs as Attrs;
    const filterShape = a.filterShape as [number, number, number, number];
    const info = convInfoFor(x.shape, filterShape, a, false);
    requireNoDilation("Conv2DBackpropFilter", info);
    const [fh, fw, ci, co] = filterShape;
    const pointwise = fh === 1 && fw === 1;
    if (
      (ci <= SMALL_C_MAX_IN_CHANNELS || pointwise) &&
      x.dtype === "float32" &&
      dy.dtype === "float32"
    ) {
      const b = wasmInternals(backend as tf.KernelBackend);
      const out = b.makeOutput(filterShape, "float32");
      const [n, h, w] = x.shape;
      const [, ho, wo] = dy.shape;
      simdKernels(b).conv2dBackpropFilterSmallC(
        heapOffset(b, x),
        heapOffset(b, dy),
        heapOffset(b, out),
        n,
        h,
        w,
        ci,
        ho,
        wo,
        co,
        fh,
        fw,
        info.strideHeight,
        info.strideWidth,
        info.padInfo.top,
        info.padInfo.left,
      );
      return out;
    }
    return conv2dBackpropFilterImpl(x, dy, filterShape, info);
  },
};

/** Conv2DBackpropInput (the stock wasm kernel is a naive loop). */
export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: "Conv2DBackpropInput",
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs }) => {
    const { dy, filter } = inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
    const a = attrs as Attrs;
    const inputShape = a.inputShape as [number, number, number, number];
    const info = convInfoFor(inputShape, filter.shape, a, false);
    return conv2dBackpropInputImpl(dy, filter, inputShape, info);
  },
};

/** DepthwiseConv2dNativeBackpropInput (missing in tfjs-backend-wasm). */
export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: "DepthwiseConv2dNativeBackpropInput",
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs }) => {
    const { dy, filter } = inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
    const a = attrs as Attrs;
    const inputShape = a.inputShape as [number, number, number, number];
    const info = convInfoFor(inputShape, filter.shape, a, true);
    return depthwiseBackpropInputImpl(dy, filter, inputShape, info);
  },
};
