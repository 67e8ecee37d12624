/**
 * batchwise's kernel pack for the tfjs `wasm` backend: the gradient kernels it lacks and
 * replacements for the stock kernels that make training slow. See
 * `docs/notes/wasm-training.md` for the measurements that chose them.
 *
 * | kernel | why | how |
 * |---|---|---|
 * | Conv2DBackpropFilter | missing | forward Conv2D with roles swapped (conv.ts) |
 * | Conv2DBackpropInput | stock is a naive loop | Conv2D with the flipped filter (conv.ts) |
 * | DepthwiseConv2dNativeBackpropInput | missing | depthwise conv, flipped filter (conv.ts) |
 * | DepthwiseConv2dNativeBackpropFilter | missing | wasm SIMD (asm/kernels.ts) |
 * | UnsortedSegmentSum | missing (gather/embedding gradient) | wasm SIMD |
 * | MaxPoolGrad, AvgPoolGrad | stock is slow (20×) | wasm SIMD |
 * | Sum, Mean | leading-axis reductions transpose first | wasm SIMD row sum (simd-reduce.ts) |
 * | Tile | stock walks every output element | block copies + doubling copyWithin (tile.ts) |
 * | SplitV | stock slices each output element by element | one block copy per piece (split.ts) |
 * | GatherV2 | stock is slow for row gathers (embeddings) | wasm SIMD row copies |
 * | Transpose | stock moves one element at a time | last-two-axes swaps by wasm SIMD 4×4 blocks (transpose.ts) |
 * | BatchMatMul | transposed operands and batch > 1 run a naive loop | explicit transpose; batches by wasm SIMD 4×8 tiles (matmul.ts) |
 *
 * Gradients (backend-independent, registered with the kernels; gradients.ts):
 *
 * | gradient | why | how |
 * |---|---|---|
 * | Tile | tfjs-core adds one Slice per repetition (tfjs-layers' LayerNormalization tiles to [B, T, d]) | reshape + one Sum |
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropInputConfig,
} from "./conv";
import { batchMatMulConfig } from "./matmul";
import { simdKernelConfigs } from "./simd-kernels";
import { meanConfig, sumConfig } from "./simd-reduce";
import { splitConfig } from "./split";
import { tileConfig } from "./tile";
import { transposeConfig } from "./transpose";
import { packGradientConfigs } from "./gradients";

/**
 * Kernel configs of the pack. Overrides capture the stock kernel they fall back to, so this
 * must be called while the stock kernels are still registered (i.e. before
 * {@link registerKernelPack} ran).
 */
export function kernelPackConfigs(): tf.KernelConfig[] {
  return [
    conv2DBackpropFilterConfig,
    conv2DBackpropInputConfig,
    depthwiseConv2dNativeBackpropInputConfig,
    batchMatMulConfig(),
    ...simdKernelConfigs(),
    sumConfig(),
    meanConfig(),
    tileConfig(),
    splitConfig(),
    transposeConfig(),
  ];
}

let registered = false;

/** Whether {@link registerKernelPack} has run in this process. */
export function kernelPackRegistered(): boolean {
  return registered;
}

/**
 * Registers (or overrides) the pack's kernels on the `wasm` backend, and the pack's gradient
 * definitions (which apply to every backend). Idempotent.
 * A replaced stock kernel keeps its setupFunc; the override calls the stock kernelFunc for the
 * cases it does not handle.
 */
export function registerKernelPack(): void {
  if (registered) return;
  const configs = kernelPackConfigs();
  for (const cfg of configs) {
    const existing = tf.getKernel(cfg.kernelName, "wasm");
    if (existing != null) tf.unregisterKernel(cfg.kernelName, "wasm");
    tf.registerKernel({
      ...cfg,
      backendName: "wasm",
      setupFunc: cfg.setupFunc ?? existing?.setupFunc,
    });
  }
  registerPackGradients();
  registered = true;
}

let gradientsRegistered = false;

/**
 * Registers the pack's gradient definitions ({@link packGradientConfigs}) with
 * `tf.registerGradient`. Gradients are global (every backend: tensorflow, webgpu, wasm, cpu);
 * the replacements compute the same values as tfjs-core's with far fewer kernel calls.
 * Idempotent; `initBackend` calls it whichever backend it starts.
 */
export function registerPackGradients(): void {
  if (gradientsRegistered) return;
  for (const g of packGradientConfigs()) tf.registerGradient(g);
  gradientsRegistered = true;
}
