/**
 * Arithmetic-heavy kernels of batchwise's wasm kernel pack, computed by the AssemblyScript
 * SIMD module (`asm/kernels.ts`, loaded by {@link simdKernels}) in place on the tfjs wasm
 * backend's heap:
 *
 * - `DepthwiseConv2dNativeBackpropFilter` (missing in tfjs-backend-wasm),
 * - `MaxPoolGrad`, `AvgPoolGrad` (replace slow stock kernels),
 * - `UnsortedSegmentSum` (missing; the gradient of gather/embedding lookups),
 * - `GatherV2` (replaces the slow stock kernel for batchDims = 0; other cases call the
 *   stock kernel).
 *
 * Every kernel checks that its input shapes agree with the geometry it passes to wasm, so a
 * bad call throws instead of reading or writing outside its tensors.
 */
import * as tf from "@tensorflow/tfjs-core";
import { heapOffset, wasmInternals, type WasmBackendInternals } from "../wasm-module";
import { simdKernels, tfjsWasmMemory } from "../simd";
import { BackendError } from "../../core/errors";

type Info = tf.TensorInfo;
type KernelArgs = Parameters<tf.KernelFunc>[0];

function backendOf(args: KernelArgs): WasmBackendInternals {
  return wasmInternals(args.backend as tf.KernelBackend);
}

function input(args: KernelArgs, kernel: string, name: string): Info {
  const t = args.inputs[name];
  if (t == null) throw new BackendError(`${kernel}: input '${name}' is missing`);
  return t;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function requireDtype(kernel: string, name: string, t: Info, dtypes: readonly tf.DataType[]): void {
  if (!dtypes.includes(t.dtype)) {
    throw new BackendError(`${kernel}: ${name} must be ${dtypes.join(" or ")}, got ${t.dtype}`);
  }
}

function requireRank4(kernel: string, name: string, t: Info): [number, number, number, number] {
  if (t.shape.length !== 4) {
    throw new BackendError(`${kernel}: ${name} must be rank 4 (NHWC), got shape [${t.shape}]`);
  }
  return t.shape as [number, number, number, number];
}

function requireShape(kernel: string, name: string, t: Info, expected: number[]): void {
  if (!sameShape(t.shape, expected)) {
    throw new BackendError(`${kernel}: ${name} has shape [${t.shape}], expected [${expected}]`);
  }
}

// ----------------------------------------------------------------------------------------

/**
 * `DepthwiseConv2dNativeBackpropFilter` on the wasm backend: the gradient of a depthwise
 * convolution with respect to its filter,
 * `dW[i,j,c,m] = Σ_{n,oh,ow} x[n, oh·sh − padTop + i·dh, ow·sw − padLeft + j·dw, c] ·
 * dy[n, oh, ow, c·M + m]` (padding contributes zeros).
 *
 * Inputs `x` [N,H,W,C] and `dy` [N,Ho,Wo,C·M], float32; attrs `strides`, `pad` (`same`,
 * `valid`, a number or explicit), `dilations`, `filterShape` [fh,fw,C,M], `dimRoundingMode`.
 * Geometry from `backend_util.computeConv2DInfo(..., depthwise = true)`. Output [fh,fw,C,M].
 * M = 1 is vectorised over channels (f32x4); other M run scalar wasm code. Dilations > 1
 * are computed exactly (tfjs's cpu kernel ignores them; tfjs's gradient rejects them).
 *
 * @throws Error if dtypes are not float32 or dy's shape does not match the geometry.
 */
export function depthwiseConv2dNativeBackpropFilter(args: KernelArgs): Info {
  const K = "DepthwiseConv2dNativeBackpropFilter";
  const x = input(args, K, "x");
  const dy = input(args, K, "dy");
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  requireDtype(K, "x", x, ["float32"]);
  requireDtype(K, "dy", dy, ["float32"]);
  const xShape = requireRank4(K, "x", x);
  const fs = attrs.filterShape;
  if (fs == null || fs.length !== 4 || fs[2] !== xShape[3]) {
    throw new BackendError(`${K}: filterShape [${fs}] must be [fh, fw, ${xShape[3]}, multiplier]`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    fs,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  requireShape(K, "dy", dy, [info.batchSize, info.outHeight, info.outWidth, info.outChannels]);
  const b = backendOf(args);
  const out = b.makeOutput([...info.filterShape], "float32");
  if (tf.util.sizeFromShape(out.shape) === 0) return out;
  simdKernels(b).depthwiseConv2dBackpropFilter(
    heapOffset(b, x),
    heapOffset(b, dy),
    heapOffset(b, out),
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outChannels / info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  );
  return out;
}

/**
 * `MaxPoolGrad` on the wasm backend: the gradient of 2-D max pooling. For each window the
 * argmax over `input` is recomputed (first maximum in row-major window order wins, as in
 * tfjs's cpu backend; NaN never wins) and that position receives the window's `dy`;
 * overlapping windows add.
 *
 * Inputs `dy` [N,Ho,Wo,C], `input` [N,H,W,C] (`output` is not needed), float32; attrs
 * `filterSize`, `strides`, `pad`, `dimRoundingMode`. Output [N,H,W,C].
 *
 * @throws Error if dtypes are not float32 or dy's shape does not match the geometry.
 */
export function maxPoolGrad(args: KernelArgs): Info {
  const K = "MaxPoolGrad";
  const dy = input(args, K, "dy");
  const x = input(args, K, "input");
  const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs;
  requireDtype(K, "dy", dy, ["float32"]);
  requireDtype(K, "input", x, ["float32"]);
  const xShape = requireRank4(K, "input", x);
  const info = tf.backend_util.computePool2DInfo(
    xShape,
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  requireShape(K, "dy", dy, [info.batchSize, info.outHeight, info.outWidth, info.outChannels]);
  const b = backendOf(args);
  const out = b.makeOutput([...xShape], "float32");
  if (tf.util.sizeFromShape(xShape) === 0) return out;
  simdKernels(b).maxPoolGrad(
    heapOffset(b, x),
    heapOffset(b, dy),
    heapOffset(b, out),
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  );
  return out;
}

/**
 * `AvgPoolGrad` on the wasm backend: the gradient of 2-D average pooling with tfjs's
 * convention `dx[n,h,w,c] = Σ_{windows ∋ (h,w)} dy[n,oh,ow,c] / (fh·fw)`. Like tfjs's cpu
 * and stock wasm kernels it divides by the full window size even where a `same`-padded
 * window holds fewer input pixels (tfjs's forward divides by the count of valid pixels, so
 * border gradients are smaller than the exact ones; kept for agreement with tfjs).
 *
 * Inputs `dy` [N,Ho,Wo,C], `input` [N,H,W,C], float32; attrs `filterSize`, `strides`, `pad`.
 * Output [N,H,W,C].
 *
 * @throws Error if dtypes are not float32 or dy's shape does not match the geometry.
 */
export function avgPoolGrad(args: KernelArgs): Info {
  const K = "AvgPoolGrad";
  const dy = input(args, K, "dy");
  const x = input(args, K, "input");
  const attrs = args.attrs as unknown as tf.AvgPoolGradAttrs;
  requireDtype(K, "dy", dy, ["float32"]);
  requireDtype(K, "input", x, ["float32"]);
  const xShape = requireRank4(K, "input", x);
  const info = tf.backend_util.computePool2DInfo(
    xShape,
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
  );
  requireShape(K, "dy", dy, [info.batchSize, info.outHeight, info.outWidth, info.outChannels]);
  const b = backendOf(args);
  const out = b.makeOutput([...xShape], "float32");
  if (tf.util.sizeFromShape(xShape) === 0) return out;
  simdKernels(b).avgPoolGrad(
    heapOffset(b, dy),
    heapOffset(b, out),
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
    1 / (info.filterHeight * info.filterWidth),
  );
  return out;
}

/**
 * `UnsortedSegmentSum` on the wasm backend: `out[s, ...] = Σ_{r : segmentIds[r] = s} x[r, ...]`
 * — the gradient of `gather` along axis 0. Rows whose id is outside [0, numSegments) are
 * dropped (as TensorFlow does).
 *
 * Inputs `x` [N, ...rest] (float32 or int32) and `segmentIds` [N] int32; attr `numSegments`
 * (integer ≥ 0). Output [numSegments, ...rest], same dtype as x.
 *
 * @throws Error if segmentIds is not a rank-1 int32 tensor of length N, x's dtype is not
 *   float32/int32, or numSegments is not a non-negative integer.
 */
export function unsortedSegmentSum(args: KernelArgs): Info {
  const K = "UnsortedSegmentSum";
  const x = input(args, K, "x");
  const segmentIds = input(args, K, "segmentIds");
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  requireDtype(K, "x", x, ["float32", "int32"]);
  requireDtype(K, "segmentIds", segmentIds, ["int32"]);
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new BackendError(`${K}: numSegments must be an integer >= 0, got ${numSegments}`);
  }
  if (x.shape.length < 1 || segmentIds.shape.length !== 1 || segmentIds.shape[0] !== x.shape[0]) {
    throw new BackendError(
      `${K}: segmentIds must have shape [${x.shape[0]}] (x's first dimension), got [${segmentIds.shape}]`,
    );
  }
  const rest = x.shape.slice(1);
  const rows = x.shape[0];
  const d = tf.util.sizeFromShape(rest);
  const b = backendOf(args);
  const out = b.makeOutput([numSegments, ...rest], x.dtype);
  if (numSegments * d === 0) return out;
  const k = simdKernels(b);
  const f = x.dtype === "float32" ? k.unsortedSegmentSumF32 : k.unsortedSegmentSumI32;
  f(heapOffset(b, x), heapOffset(b, segmentIds), heapOffset(b, out), rows, d, numSegments);
  return out;
}

// ----------------------------------------------------------------------------------------
// GatherV2 override

const STOCK = Symbol("batchwise.stockKernel");
type TaggedKernelFunc = tf.KernelFunc & { [STOCK]?: tf.KernelConfig };

/** The stock wasm kernel config, looking through overrides made by this module. */
function stockKernel(name: string): tf.KernelConfig | undefined {
  let cfg: tf.KernelConfig | undefined = tf.getKernel(name, "wasm");
  while (cfg != null && STOCK in cfg.kernelFunc) {
    cfg = (cfg.kernelFunc as TaggedKernelFunc)[STOCK];
  }
  return cfg;
}

const BYTES: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4, bool: 1 };

/**
 * A `GatherV2` kernel for the wasm backend: for batchDims = 0 and int32 indices,
 * `out[o, k..., r] = x[o, indices[k...], r]` along `axis` by row copies (the embedding
 * lookup case); every other case calls `stock`.
 *
 * Inputs `x` (float32, int32 or bool) and `indices` (int32); attrs `axis`, `batchDims`.
 * Output shape x.shape[:axis] ++ indices.shape ++ x.shape[axis+1:].
 *
 * @param stock the stock wasm GatherV2 config (its kernelFunc handles other cases).
 * @throws Error `GatherV2: the index value v is not in [0, dim-1]` (the stock message) for an
 *   out-of-range index.
 */
export function makeGatherV2(stock: tf.KernelConfig | undefined): tf.KernelFunc {
  const fn: TaggedKernelFunc = (args) => {
    const x = input(args, "GatherV2", "x");
    const indices = input(args, "GatherV2", "indices");
    const { axis, batchDims } = args.attrs as unknown as tf.GatherV2Attrs;
    const bytes = BYTES[x.dtype];
    if ((batchDims ?? 0) !== 0 || indices.dtype !== "int32" || bytes == null) {
      if (stock == null) {
        throw new BackendError(
          `GatherV2: the stock wasm kernel is not available for batchDims=${batchDims}, ` +
            `indices ${indices.dtype}, x ${x.dtype}`,
        );
      }
      return stock.kernelFunc(args);
    }
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const dim = x.shape[ax];
    const outer = tf.util.sizeFromShape(x.shape.slice(0, ax));
    const rowElems = tf.util.sizeFromShape(x.shape.slice(ax + 1));
    const count = tf.util.sizeFromShape(indices.shape);
    const b = backendOf(args);
    const k = simdKernels(b);
    const idxOff = heapOffset(b, indices);
    const bad = count > 0 ? k.firstIndexOutOfRange(idxOff, count, dim) : -1;
    if (bad >= 0) {
      // A fresh view: views made before an allocation may have detached.
      const v = new Int32Array(tfjsWasmMemory(b).buffer, idxOff + 4 * bad, 1)[0];
      throw new BackendError(`GatherV2: the index value ${v} is not in [0, ${dim - 1}]`);
    }
    const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
    const out = b.makeOutput(outShape, x.dtype);
    if (outer * count * rowElems === 0) return out;
    k.gatherRows(
      heapOffset(b, x),
      heapOffset(b, indices),
      heapOffset(b, out),
      outer,
      dim,
      count,
      rowElems * bytes,
    );
    return out;
  };
  fn[STOCK] = stock;
  return fn;
}

/**
 * The SIMD kernels as tfjs kernel configs for the `wasm` backend, in registration order.
 * Replacements of stock kernels (GatherV2) capture the stock config now, so call this before
 * registering; calling it again later still finds the stock kernel (overrides made here are
 * tagged and looked through). The GatherV2 config carries the stock setupFunc.
 *
 * @returns configs for DepthwiseConv2dNativeBackpropFilter, MaxPoolGrad, AvgPoolGrad,
 *   UnsortedSegmentSum and GatherV2.
 * @example
 * for (const cfg of simdKernelConfigs()) {
 *   if (tf.getKernel(cfg.kernelName, "wasm")) tf.unregisterKernel(cfg.kernelName, "wasm");
 *   tf.registerKernel(cfg);
 * }
 */
export function simdKernelConfigs(): tf.KernelConfig[] {
  // Loading the package registers the stock wasm kernels (no backend is started).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("@tensorflow/tfjs-backend-wasm");
  const gather = stockKernel(tf.GatherV2);
  const cfg = (kernelName: string, kernelFunc: tf.KernelFunc): tf.KernelConfig => ({
    kernelName,
    backendName: "wasm",
    kernelFunc,
  });
  return [
    cfg(
      tf.DepthwiseConv2dNativeBackpropFilter,
      depthwiseConv2dNativeBackpropFilter as tf.KernelFunc,
    ),
    cfg(tf.MaxPoolGrad, maxPoolGrad as tf.KernelFunc),
    cfg(tf.AvgPoolGrad, avgPoolGrad as tf.KernelFunc),
    cfg(tf.UnsortedSegmentSum, unsortedSegmentSum as tf.KernelFunc),
    { ...cfg(tf.GatherV2, makeGatherV2(gather)), setupFunc: gather?.setupFunc },
  ];
}
