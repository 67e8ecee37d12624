/**
 * The noise scale under Adam's diagonal preconditioning: the same estimators applied to
 * gradients divided elementwise by √v̂ + ε.
 *
 * Why. Adam moves along P·m̂ with P = diag(1/(√v̂ + ε)). Redo McCandlish et al.'s (2018, §2.2)
 * one-step analysis for θ' = θ − ε·P·G_est with P fixed during the step (v̂ changes slowly):
 *
 *     E[L(θ')] ≈ L − ε·GᵀPG + ½ε²·(GᵀPHPG + tr(PHPΣ)/B).
 *
 * Under the same "H ∝ I" simplification that turns B_noise into B_simple, PHP ∝ P², and the
 * optimal improvement is ΔL_max/(1 + B_P/B) with
 *
 *     B_P = tr(PΣP)/|PG|² = tr(Σ_P)/|G_P|²,  G_P = P·G,  Σ_P = PΣP —
 *
 * the simple noise scale of the preconditioned per-example gradients P·g_x (power 1, the
 * default). If instead one assumes Adam preconditions perfectly (P^{1/2}HP^{1/2} ∝ I, so
 * PHP ∝ P), the relevant scale is tr(PΣ)/(GᵀPG): the noise scale of P^{1/2}·g_x (power ½).
 * Both are unbiased for their targets conditional on v̂, since P is a constant linear map
 * during the step. Departures: Adam's momentum m̂ is ignored (it averages gradients over
 * ~1/(1−β1) steps, which the one-step analysis does not model), and v̂ is the optimizer's state
 * after its last update (it includes earlier batches, not the current one).
 *
 * Context: Zhang et al. 2019 (arXiv:1907.04164) show that preconditioned optimizers have
 * larger critical batch sizes than SGD on the noisy quadratic model.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { trainableVariables } from "../grad/batch";
import type { Preconditioner } from "../grad/micro-batch";
import { Adam } from "../optim/adam";
import { ConfigError } from "../core/errors";

interface AdamView {
  accumulatedSecondMoment?: { originalName: string; variable: tf.Variable }[];
  beta2?: number;
  epsilon?: number;
}

/**
 * Adam's bias-corrected second moment v̂ per trainable variable, as a {@link Preconditioner}.
 *
 * Formula: v̂ = v_t/(1 − β2^t) (Kingma & Ba 2015, Algorithm 1), t = `optimizer.iterations`;
 * the preconditioner divides gradients by (√v̂ + ε)^power, ε the optimizer's epsilon (tfjs
 * places it outside the square root, as Kingma & Ba do).
 *
 * @param optimizer - A tfjs Adam optimizer (`tf.train.adam`) or batchwise's {@link Adam} that
 *   has applied ≥ 1 update to the model's variables.
 * @param model - The model whose trainable variables the optimizer updates.
 * @param opts.power - Exponent > 0 of the divisor (default 1; ½ for the "ideal
 *   preconditioner" scale, see the module comment).
 * @returns `{ vhat, epsilon, power }`; `vhat` holds fresh tensors — free them with
 *   {@link disposePreconditioner}.
 * @throws Error if the optimizer is not Adam, has no state yet, or lacks a variable's slot.
 * @example
 * const pre = adamPreconditioner(opt, model);
 * const rec = microBatchGradNorms(model, task, batch, { microBatchSize: 64, preconditioner: pre });
 * disposePreconditioner(pre);
 */
export function adamPreconditioner(
  optimizer: tf.Optimizer,
  model: tfl.LayersModel,
  opts: { power?: number } = {},
): Preconditioner {
  // not instanceof: tf.Optimizer's Symbol.hasInstance accepts any optimizer
  const batchwise = optimizer.getClassName() === Adam.className;
  if (!batchwise && optimizer.getClassName() !== "Adam") {
    throw new ConfigError(`optimizer must be tfjs Adam, got ${optimizer.getClassName()}`);
  }
  const power = opts.power ?? 1;
  if (!(Number.isFinite(power) && power > 0)) {
    throw new ConfigError(`power must be a finite number > 0, got ${power}`);
  }
  const state = batchwise
    ? batchwiseSecondMoments(optimizer as Adam)
    : tfjsSecondMoments(optimizer);
  const correction = 1 - Math.pow(state.beta2, optimizer.iterations);
  const vhat: tf.NamedTensorMap = {};
  try {
    for (const v of trainableVariables(model)) {
      // inside tidy: a copy read from the state is freed with the other intermediates
      vhat[v.name] = tf.tidy(() => tf.div(state.read(v.name), correction));
    }
  } catch (e) {
    tf.dispose(Object.values(vhat));
    throw e;
  }
  return { vhat, epsilon: state.epsilon, power };
}

/** An Adam optimizer's β₂, ε and second moment v of a variable (by name). */
interface SecondMoments {
  beta2: number;
  epsilon: number;
  read(name: string): tf.Tensor;
}

const NO_STATE = "the Adam optimizer has no second-moment state yet (apply one update first)";

/** tfjs's `tf.train.adam`: its slots, keyed `<variable>/v`. */
function tfjsSecondMoments(optimizer: tf.Optimizer): SecondMoments {
  const o = optimizer as unknown as AdamView;
  const slots = o.accumulatedSecondMoment ?? [];
  if (optimizer.iterations < 1 || slots.length === 0) throw new ConfigError(NO_STATE);
  const byName = new Map(slots.map((s) => [s.originalName, s.variable]));
  return {
    beta2: o.beta2 as number,
    epsilon: o.epsilon as number,
    read: (name) => {
      const slot = byName.get(`${name}/v`);
      if (slot == null)
        throw new ConfigError(`the Adam optimizer has no second moment for '${name}'`);
      return slot;
    },
  };
}

/** batchwise's {@link Adam}: slices of its flat state. */
function batchwiseSecondMoments(optimizer: Adam): SecondMoments {
  if (optimizer.iterations < 1) throw new ConfigError(NO_STATE);
  return {
    beta2: optimizer.beta2,
    epsilon: optimizer.epsilon,
    read: (name) => optimizer.moments(name).v,
  };
}

/**
 * Frees the tensors of a preconditioner made by {@link adamPreconditioner}.
 * @param pre - The preconditioner; its `vhat` tensors are disposed.
 * @example disposePreconditioner(pre);
 */
export function disposePreconditioner(pre: Preconditioner): void {
  tf.dispose(Object.values(pre.vhat));
}
