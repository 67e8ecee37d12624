/**
 * The machinery shared by batchwise's optimizers (AdamW, LAMB, LARS): per-variable state
 * ("slots") keyed by the variable's name, serialisable through `getWeights`/`setWeights` as
 * `${variableName}/${slot}` tensors (plus tfjs's `iter` counter first), a validated mutable
 * learning rate, and name-pattern exclusion lists.
 *
 * Why a new base: tfjs's own Adam keys its moments by the *position* of a variable in the
 * gradient map, so a map with a different key order or a subset of variables updates the
 * wrong moments; here a variable's state follows its name.
 */
import * as tf from "@tensorflow/tfjs-core";
import { ConfigError } from "../core/errors";

/** A named tensor, as tfjs optimizers exchange state and gradient lists (tfjs-core's
 * `NamedTensor`, which its index does not export). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** Raised for an invalid optimizer option; the message names the option and the value. */
export class OptimizerConfigError extends ConfigError {
  override name = "OptimizerConfigError";
}

/**
 * Regular-expression sources that match the names tfjs-layers gives to bias vectors and to
 * batch/layer-normalisation scales and offsets (`…/bias`, `…/qkv_bias`, `…/gamma`, `…/beta`,
 * with the `_1`, `_2`, … suffix tfjs-layers appends when a model is built twice).
 * Passing them as `excludeFromWeightDecay` reproduces the common practice of BERT's
 * optimisers (google-research/bert `optimization.py`:
 * `exclude_from_weight_decay=["LayerNorm", "layer_norm", "bias"]`), which LAMB's authors
 * used for BERT (You et al. 2019, §4 and their released code).
 */
export const BIAS_AND_NORM_PATTERNS: readonly string[] = Object.freeze([
  "bias(_\\d+)?$",
  "gamma(_\\d+)?$",
  "beta(_\\d+)?$",
]);

/**
 * Validates a numeric option: `v` must be a finite number with lo ≤ v ≤ hi (lo < v when
 * `openLo`).
 *
 * @param where class name for the message, e.g. `"Lamb"`.
 * @param name option name, e.g. `"beta1"`.
 * @param v the value given.
 * @param lo lower bound.
 * @param hi upper bound (may be `Infinity`; v itself must be finite).
 * @param openLo exclude `lo` itself (default false).
 * @returns `v`.
 * @throws OptimizerConfigError `"<where>: <name> must be a number in [lo, hi], got <v>"`.
 * @example
 * checkRange("Lamb", "beta1", 0.9, 0, 1); // 0.9
 */
export function checkRange(
  where: string,
  name: string,
  v: unknown,
  lo: number,
  hi: number,
  openLo = false,
): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v > hi || (openLo ? v <= lo : v < lo)) {
    const range = `${openLo ? "(" : "["}${lo}, ${hi}]`;
    throw new OptimizerConfigError(`${where}: ${name} must be a number in ${range}, got ${v}`);
  }
  return v;
}

/**
 * Compiles a list of regular-expression sources (the serialisable form of an exclusion
 * list; a variable is matched with `RegExp.test` on its name).
 *
 * @param where class name for messages.
 * @param name option name.
 * @param v `undefined`/`null` (no patterns) or an array of strings.
 * @returns the compiled expressions.
 * @throws OptimizerConfigError if `v` is not an array of strings, or naming the first
 *   invalid expression.
 * @example
 * compilePatterns("Lamb", "excludeFromWeightDecay", ["bias$"])[0].test("dense/bias"); // true
 */
export function compilePatterns(where: string, name: string, v: unknown): RegExp[] {
  if (v == null) return [];
  if (!Array.isArray(v) || v.some((p) => typeof p !== "string")) {
    throw new OptimizerConfigError(`${where}: ${name} must be an array of strings, got ${v}`);
  }
  return v.map((p: string) => {
    try {
      return new RegExp(p);
    } catch (e) {
      throw new OptimizerConfigError(
        `${where}: ${name} has an invalid regular expression ${JSON.stringify(p)} (${(e as Error).message})`,
      );
    }
  });
}

/**
 * Rejects option keys the optimizer does not know (a misspelt option would otherwise be
 * silently ignored).
 *
 * @param where class name for the message.
 * @param opts the options object.
 * @param known the valid keys.
 * @throws OptimizerConfigError naming the first unknown key and listing the valid ones.
 * @example
 * rejectUnknown("AdamW", { lr: 1 }, ["learningRate"]); // throws "AdamW: unknown option 'lr' …"
 */
export function rejectUnknown(where: string, opts: object, known: readonly string[]): void {
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) {
      throw new OptimizerConfigError(
        `${where}: unknown option '${k}' (valid: ${known.join(", ")})`,
      );
    }
  }
}

/**
 * Euclidean (Frobenius) norm of a whole tensor, `|x| = √(Σᵢ xᵢ²)`, as a scalar tensor (no
 * device→host read).
 *
 * @param x any float tensor.
 * @returns a scalar ≥ 0.
 * @example
 * l2norm(tf.tensor1d([3, 4])); // 5
 */
export function l2norm(x: tf.Tensor): tf.Scalar {
  return tf.sqrt(tf.sum(tf.square(x))) as tf.Scalar;
}

/**
 * The trust ratio `φ = a/b` if a > 0 and b > 0, else 1 — the convention of LAMB/LARS
 * implementations for a layer whose weights or update are zero (tensorflow-addons' LAMB,
 * tf-models' LARS; the papers leave 0/0 undefined). No division by zero is evaluated.
 *
 * @param a numerator, a scalar (|θ|).
 * @param b denominator, a scalar (|r|).
 * @returns a scalar tensor.
 * @example
 * safeRatio(tf.scalar(5), tf.scalar(2)); // 2.5;  safeRatio(tf.scalar(0), tf.scalar(2)); // 1
 */
export function safeRatio(a: tf.Scalar, b: tf.Scalar): tf.Scalar {
  const ok = tf.logicalAnd(tf.greater(a, 0), tf.greater(b, 0));
  return tf.where(ok, tf.div(a, tf.where(ok, b, tf.onesLike(b))), tf.onesLike(a)) as tf.Scalar;
}

/** A gradient map or list normalised to `[name, gradient | undefined]` pairs. */
function gradientPairs(g: tf.NamedTensorMap | NamedTensor[]): [string, tf.Tensor | undefined][] {
  return Array.isArray(g)
    ? g.map((e) => [e.name, e.tensor] as [string, tf.Tensor | undefined])
    : Object.entries(g);
}

/**
 * Base class: an optimizer whose state is a set of named slots per variable, created lazily
 * as zeros of the variable's shape on its first gradient.
 *
 * Subclasses implement {@link SlotOptimizer.update}, called inside `tf.tidy` once per
 * variable with a gradient, and {@link SlotOptimizer.getConfig}.
 *
 * Note: `tf.Optimizer` defines a duck-typed `Symbol.hasInstance`, so `x instanceof Lamb` is
 * true for every optimizer; compare `getClassName()` instead.
 *
 * @example
 * class Sgd extends SlotOptimizer {
 *   protected readonly slotNames = [];
 *   protected readonly label = "Sgd";
 *   constructor(lr: number) { super(lr, "Sgd"); }
 *   protected update(_n: string, v: tf.Variable, g: tf.Tensor) { v.assign(tf.sub(v, tf.mul(g, this.learningRate))); }
 *   getConfig() { return { learningRate: this.learningRate }; }
 * }
 */
export abstract class SlotOptimizer extends tf.Optimizer {
  private lr: number;
  /** variable name → slot name → state variable (insertion order is creation order). */
  private readonly state = new Map<string, Map<string, tf.Variable>>();
  /** The slot names this optimizer keeps per variable, e.g. `["m", "v"]`. */
  protected abstract readonly slotNames: readonly string[];
  /** Class name used in messages. */
  protected abstract readonly label: string;

  protected constructor(learningRate: number, label: string) {
    super();
    this.lr = checkRange(label, "learningRate", learningRate, 0, Infinity);
  }

  /**
   * The learning rate of the next update (≥ 0). Mutable: the training loop sets it before
   * every step (schedules, batch-size scaling rules).
   * @throws OptimizerConfigError on a negative or non-finite value.
   */
  get learningRate(): number {
    return this.lr;
  }

  set learningRate(v: number) {
    this.lr = checkRange(this.label, "learningRate", v, 0, Infinity);
  }

  /** The state variable `slot` of variable `name`, created as zeros like `like` if absent. */
  protected slot(name: string, slot: string, like: tf.Tensor): tf.Variable {
    let s = this.state.get(name);
    if (s == null) {
      s = new Map();
      this.state.set(name, s);
    }
    let v = s.get(slot);
    if (v == null) {
      v = tf.variable(tf.zerosLike(like), false);
      s.set(slot, v);
    }
    return v;
  }

  /**
   * One update of variable `value` (named `name`) with gradient `grad` at step `t` (1-based:
   * the first update has t = 1). Runs inside `tf.tidy`; assign the new state and value.
   */
  protected abstract update(name: string, value: tf.Variable, grad: tf.Tensor, t: number): void;

  /**
   * Applies one update to every variable that has a gradient; variables whose gradient is
   * null/undefined are skipped (their state is not created or advanced).
   *
   * @param variableGradients gradients keyed by variable name (`tf.variableGrads`), or a list
   *   of `{name, tensor}` (`Optimizer.minimize` with a var list, as `LayersModel.fit` calls it).
   * @throws Error if a name is not a registered variable, or a gradient's shape differs from
   *   its variable's.
   */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const pairs = gradientPairs(variableGradients);
    const t = this.iterations + 1;
    tf.tidy(() => {
      for (const [name, grad] of pairs) {
        if (grad == null) continue;
        const value = tf.engine().registeredVariables[name];
        if (value == null) throw new ConfigError(`${this.label}: no variable named '${name}'`);
        if (!tf.util.arraysEqual(value.shape, grad.shape)) {
          throw new ConfigError(
            `${this.label}: gradient of '${name}' has shape [${grad.shape}], variable [${value.shape}]`,
          );
        }
        this.update(name, value, grad, t);
      }
    });
    this.incrementIterations();
  }

  /** Names of the variables that have state, in creation order. */
  stateVariableNames(): string[] {
    return [...this.state.keys()];
  }

  /**
   * The optimizer state: tfjs's iteration counter (`iter`) first, then every slot as
   * `{name: "<variable name>/<slot>", tensor}` (variable by variable, slots in
   * `slotNames` order). The tensors are the live state variables (do not dispose them).
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [await this.saveIterations()];
    for (const [name, slots] of this.state) {
      for (const s of this.slotNames) {
        const v = slots.get(s);
        if (v != null) out.push({ name: `${name}/${s}`, tensor: v });
      }
    }
    return out;
  }

  /**
   * Replaces the state by `weightValues` as produced by {@link getWeights} (the first entry is
   * the iteration counter). Each `…/slot` tensor is copied into a new state variable for the
   * variable named by the part before the last `/`; the given tensors are not kept.
   * @throws Error on a name without a known slot suffix.
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const parsed = rest.map(({ name, tensor }) => {
      const cut = name.lastIndexOf("/");
      const slot = cut < 0 ? "" : name.slice(cut + 1);
      if (cut <= 0 || !this.slotNames.includes(slot)) {
        throw new ConfigError(
          `${this.label}.setWeights: '${name}' is not '<variable>/<slot>' with slot in ${this.slotNames.join(", ")}`,
        );
      }
      return { variable: name.slice(0, cut), slot, tensor };
    });
    this.disposeState();
    for (const p of parsed) {
      let s = this.state.get(p.variable);
      if (s == null) {
        s = new Map();
        this.state.set(p.variable, s);
      }
      s.get(p.slot)?.dispose();
      // The variable shares the tensor's data (reference-counted): disposing the given tensor
      // later does not free the state.
      s.set(p.slot, tf.variable(p.tensor, false));
    }
  }

  private disposeState(): void {
    for (const slots of this.state.values()) for (const v of slots.values()) v.dispose();
    this.state.clear();
  }

  /** Disposes every state variable. The optimizer can be used again (state restarts at 0). */
  override dispose(): void {
    this.disposeState();
  }
}
