/**
 * batchwise's native kernel pack: kernels for the `tensorflow` backend (tfjs-node on
 * TensorFlow's C library) where tfjs-node's own are slow or tfjs-core's gradients take many
 * passes over an activation that TensorFlow does in one op. One kernel per file; this is the
 * registration list. Registered by `initBackend` when it starts `tensorflow` or
 * `tensorflow-gpu`; the gradient configs here are global and fall back to tfjs-core's formula
 * on other backends.
 */
import * as tf from "@tensorflow/tfjs-core";
import { activationGradKernels, reluGradConfig, sigmoidGradConfig } from "./activation-grads";
import { stepConfig } from "./step";
import { BackendError } from "../../core/errors";

let registered = false;

/** Gradient configs of the pack (global, backend-aware). */
export function nativeGradientConfigs(): tf.GradConfig[] {
  return [reluGradConfig, sigmoidGradConfig];
}

/**
 * Registers the pack on the `tensorflow` backend (which must be registered, i.e. tfjs-node
 * loaded). Idempotent.
 * @throws Error when tfjs-node's Step kernel is not registered (tfjs-node not loaded).
 */
export function registerNativeKernels(): void {
  if (registered) return;
  const step = tf.getKernel(tf.Step, "tensorflow");
  if (step == null)
    throw new BackendError("registerNativeKernels: the tensorflow backend is not loaded");
  tf.unregisterKernel(tf.Step, "tensorflow");
  tf.registerKernel(stepConfig(step.kernelFunc));
  for (const k of activationGradKernels) tf.registerKernel(k);
  for (const g of nativeGradientConfigs()) tf.registerGradient(g);
  registered = true;
}
