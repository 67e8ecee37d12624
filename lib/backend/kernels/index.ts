/**
 * batchwise's kernel pack for the tfjs `wasm` backend: the gradient kernels it lacks and
 * replacements for the stock kernels that make training slow.
 */
import * as tf from "@tensorflow/tfjs-core";

/** Kernel configs of the pack, in registration order. */
export function kernelPackConfigs(): tf.KernelConfig[] {
  return [];
}

let registered = false;

/**
 * Registers (or overrides) the pack's kernels on the `wasm` backend. Idempotent.
 * A replaced stock kernel's original kernelFunc is kept and called for the cases the
 * replacement does not handle.
 */
export function registerKernelPack(): void {
  if (registered) return;
  for (const cfg of kernelPackConfigs()) {
    const existing = tf.getKernel(cfg.kernelName, "wasm");
    if (existing != null) tf.unregisterKernel(cfg.kernelName, "wasm");
    tf.registerKernel({ ...cfg, backendName: "wasm", setupFunc: cfg.setupFunc ?? existing?.setupFunc });
  }
  registered = true;
}
