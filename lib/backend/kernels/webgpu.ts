/**
 * What tfjs-backend-webgpu 4.22 lacks for training, measured on an NVIDIA H200 (Dawn, Vulkan;
 * the GPU run kit, scripts/gpu/README.md):
 *
 * - **AddN over more inputs than a shader may bind.** Its AddN kernel binds every input in one
 *   shader; WebGPU's default `maxStorageBuffersPerShaderStage` is 8 (tfjs does not ask for
 *   more), so `tf.addN` over 8 or more tensors — the squared gradient norm summed over a model's
 *   variables, 213 for EfficientNet-B0 — compiles an invalid pipeline and every later result is
 *   garbage (the main job diverged with loss NaN at step 3). {@link installWebGpuKernels} wraps
 *   the kernel to sum in chunks that fit the device's limit.
 * - **Filter gradients that loop over the batch in one thread.** Its Conv2DBackpropFilter and
 *   DepthwiseConv2dNativeBackpropFilter compute each filter element in one GPU thread that
 *   loops over all B·H·W output positions, so their time grows linearly with B on an idle
 *   GPU: the gap CNN trained at 2,700–2,900 examples/s from B = 256 to 16,384 where PyTorch on
 *   the same GPU reached 795,000. {@link conv2dFilterGrad} and {@link depthwiseFilterGrad}
 *   compute the same sums as one matrix product (or reduction) per filter offset, which
 *   tfjs-backend-webgpu tiles and splits across the GPU.
 */
import * as tf from "@tensorflow/tfjs-core";
import { BackendError } from "../../core/errors";

type Pad = "same" | "valid" | number | tf.backend_util.ExplicitPadding;
type Rounding = "floor" | "round" | "ceil" | undefined;

/**
 * Shifted, strided views of x: for each filter offset (i, j) in row-major order, the input
 * pixels that offset meets at every output position, as [B·H_out·W_out, C].
 */
function offsetViews(
  x: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
  visit: (view: tf.Tensor2D, offset: number) => void,
): void {
  const { padInfo, strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = info;
  const [b, , , c] = x.shape;
  const xp = tf.pad(x, [
    [0, 0],
    [padInfo.top, padInfo.bottom],
    [padInfo.left, padInfo.right],
    [0, 0],
  ]);
  let k = 0;
  for (let i = 0; i < info.filterHeight; i++) {
    for (let j = 0; j < info.filterWidth; j++) {
      const view =
        sh === 1 && sw === 1
          ? tf.slice(xp, [0, i, j, 0], [b, ho, wo, c])
          : tf.stridedSlice(
              xp,
              [0, i, j, 0],
              [b, i + sh * (ho - 1) + 1, j + sw * (wo - 1) + 1, c],
              [1, sh, sw, 1],
            );
      visit(tf.reshape(view, [b * ho * wo, c]), k);
      k += 1;
    }
  }
}

/**
 * tfjs's convolution geometry for x and the filter (dilation 1; depthwise when `op` is the
 * depthwise gradient), after checking that dy has the output's shape.
 * @throws BackendError naming `op` when dy's shape is not the convolution's output shape.
 */
function convInfo(
  op: "conv2dFilterGrad" | "depthwiseFilterGrad",
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode: Rounding,
): tf.backend_util.Conv2DInfo {
  const depthwise = op === "depthwiseFilterGrad";
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    depthwise,
  );
  if (!tf.util.arraysEqual(dy.shape, info.outShape)) {
    throw new BackendError(`${op}: dy has shape [${dy.shape}], expected [${info.outShape}]`);
  }
  return info;
}

/**
 * ∂L/∂W of `tf.conv2d(x, W, strides, pad)` (NHWC, dilation 1) from dy = ∂L/∂y:
 * `dW[i, j, :, :] = X_{ij}ᵀ · DY`, X_{ij} [B·H_out·W_out, C_in] the input pixels filter offset
 * (i, j) meets (padding included), DY = dy as [B·H_out·W_out, C_out] — the same sums as
 * TensorFlow's Conv2DBackpropFilter, one matrix product per offset.
 *
 * @param x input, [B, H, W, C_in].
 * @param dy gradient of the output, [B, H_out, W_out, C_out].
 * @param filterShape [k_h, k_w, C_in, C_out].
 * @returns dW, shape `filterShape`.
 * @throws BackendError for a dilation other than 1 or a dy of the wrong shape.
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode?: Rounding,
): tf.Tensor4D {
  const info = convInfo("conv2dFilterGrad", x, dy, filterShape, strides, pad, dimRoundingMode);
  return tf.tidy(() => {
    const dy2 = tf.reshape(dy, [-1, filterShape[3]]) as tf.Tensor2D;
    const parts: tf.Tensor2D[] = [];
    offsetViews(x, info, (view) => parts.push(tf.matMul(view, dy2, true, false)));
    return tf.reshape(tf.stack(parts), filterShape) as tf.Tensor4D;
  });
}

/**
 * ∂L/∂W of `tf.depthwiseConv2d(x, W, strides, pad)` (NHWC, channel multiplier 1, dilation 1):
 * `dW[i, j, c, 0] = Σ_n X_{ij}[n, c]·DY[n, c]` over the B·H_out·W_out output positions n, as a
 * product with a row of ones per offset.
 *
 * @param x input, [B, H, W, C].
 * @param dy gradient of the output, [B, H_out, W_out, C].
 * @param filterShape [k_h, k_w, C, 1].
 * @returns dW, shape `filterShape`.
 * @throws BackendError for a channel multiplier or dilation other than 1, or a dy of the
 *   wrong shape.
 */
export function depthwiseFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode?: Rounding,
): tf.Tensor4D {
  if (filterShape[3] !== 1) {
    throw new BackendError(
      `depthwiseFilterGrad: channel multiplier must be 1, got ${filterShape[3]}`,
    );
  }
  const info = convInfo("depthwiseFilterGrad", x, dy, filterShape, strides, pad, dimRoundingMode);
  return tf.tidy(() => {
    const c = filterShape[2];
    const dy2 = tf.reshape(dy, [-1, c]);
    const ones = tf.ones([1, dy2.shape[0]]);
    const parts: tf.Tensor2D[] = [];
    offsetViews(x, info, (view) => parts.push(tf.matMul(ones, tf.mul(view, dy2) as tf.Tensor2D)));
    return tf.reshape(tf.stack(parts), filterShape) as tf.Tensor4D;
  });
}

let installed = false;

/**
 * An AddN kernel that calls `inner` on at most `maxInputs(backend)` (≥ 2) inputs at a time:
 * sums of chunks, then sums of those, until one call remains; intermediate sums are disposed.
 * The result equals one sum up to float32 rounding order.
 */
export function chunkedAddN(
  inner: tf.KernelFunc,
  maxInputs: (backend: unknown) => number,
): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const max = Math.max(2, maxInputs(backend));
    let ts = Object.values(inputs) as tf.TensorInfo[];
    const temporaries: tf.TensorInfo[] = [];
    const call = (xs: tf.TensorInfo[]) =>
      inner({ inputs: xs as unknown as tf.NamedTensorInfoMap, backend, attrs }) as tf.TensorInfo;
    while (ts.length > max) {
      const next: tf.TensorInfo[] = [];
      for (let i = 0; i < ts.length; i += max) {
        const chunk = ts.slice(i, i + max);
        if (chunk.length === 1) {
          next.push(chunk[0]);
          continue;
        }
        const sum = call(chunk);
        temporaries.push(sum);
        next.push(sum);
      }
      ts = next;
    }
    const out = call(ts);
    for (const t of temporaries) (backend as tf.KernelBackend).disposeData(t.dataId);
    return out;
  };
}

let filterGradsEnabled = true;

/**
 * Turns the filter-gradient replacements off (tfjs-backend-webgpu's own kernels run) or back on;
 * for side-by-side measurements (scripts/gpu/checks.ts). Default on.
 */
export function setWebGpuFilterGrads(enabled: boolean): void {
  filterGradsEnabled = enabled;
}

/** Whether the webgpu backend is the active one (the replacements apply only there). */
const onWebGpu = () => filterGradsEnabled && tf.getBackend() === "webgpu";

/**
 * A gradient config that keeps tfjs-core's gradient for `kernelName` and replaces its filter
 * gradient with `filterGrad` while the webgpu backend is active.
 */
function withFilterGrad(
  kernelName: string,
  filterGrad: typeof conv2dFilterGrad,
  usable: (filterShape: number[], attrs: tf.NamedAttrMap) => boolean,
): tf.GradConfig {
  const original = tf.getGradient(kernelName);
  if (original == null) throw new BackendError(`no tfjs gradient registered for ${kernelName}`);
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const grads = original.gradFunc(dy, saved, attrs);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      if (!onWebGpu() || !usable(filter.shape, attrs)) return grads;
      const a = attrs as unknown as {
        strides: number | [number, number];
        pad: Pad;
        dimRoundingMode?: Rounding;
      };
      return {
        ...grads,
        filter: () =>
          filterGrad(
            x,
            dy as tf.Tensor4D,
            filter.shape as [number, number, number, number],
            a.strides,
            a.pad,
            a.dimRoundingMode,
          ),
      };
    },
  };
}

const dilationOne = (attrs: tf.NamedAttrMap) => {
  const d = (attrs as { dilations?: number | number[] }).dilations;
  return d == null || (Array.isArray(d) ? d.every((v) => v === 1) : d === 1);
};

/**
 * Installs the replacements described in the module comment: the chunked AddN kernel for the
 * `webgpu` backend, and the Conv2D and DepthwiseConv2dNative gradients whose filter part is
 * {@link conv2dFilterGrad} / {@link depthwiseFilterGrad} while `webgpu` is the active backend
 * (tfjs-core's otherwise; NCHW data and dilations other than 1 keep tfjs-core's too).
 * Call after tfjs-backend-webgpu registered its kernels; idempotent.
 * @throws BackendError when the webgpu AddN kernel or a tfjs gradient is missing.
 */
export function installWebGpuKernels(): void {
  if (installed) return;
  const addN = tf.getKernel("AddN", "webgpu");
  if (addN == null) throw new BackendError("the webgpu backend has no AddN kernel to wrap");
  tf.unregisterKernel("AddN", "webgpu");
  tf.registerKernel({
    ...addN,
    kernelFunc: chunkedAddN(addN.kernelFunc, (backend) => {
      const device = (
        backend as { device?: { limits: { maxStorageBuffersPerShaderStage: number } } }
      ).device;
      // one binding is the output's
      return (device?.limits.maxStorageBuffersPerShaderStage ?? 8) - 1;
    }),
  });
  const nhwc = (attrs: tf.NamedAttrMap) =>
    ((attrs as { dataFormat?: string }).dataFormat ?? "NHWC") === "NHWC";
  tf.registerGradient(
    withFilterGrad("Conv2D", conv2dFilterGrad, (_s, attrs) => dilationOne(attrs) && nhwc(attrs)),
  );
  tf.registerGradient(
    withFilterGrad(
      "DepthwiseConv2dNative",
      depthwiseFilterGrad,
      (s, attrs) => s[3] === 1 && dilationOne(attrs),
    ),
  );
  installed = true;
}
