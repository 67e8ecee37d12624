/**
 * Scaling laws on log-log axes: fitted exponents of measured costs against a tolerance, and
 * the exponents the theory table of Sievert & Charles (2019, arXiv:1910.08222; seed 001)
 * predicts over the same range.
 *
 * A cost that grows like 1/ε has slope −1 on log-log axes at every ε; one that grows like
 * log(1/ε) has a local slope −1/ln(1/ε) that flattens as ε shrinks, so "the predicted slope"
 * of an order is the least-squares slope of log(order(ε)) against log ε over the ε values
 * measured — comparable, number for number, with the slope fitted to the measurements.
 */
import { fitLine, type LineFit } from "../noise/linfit";
import { ConfigError } from "../core/errors";

/** A least-squares line through (log10 x, log10 y). */
export interface LogLogFit extends LineFit {
  /** The exponent p of y ≈ C·x^p (the slope on log-log axes). */
  exponent: number;
  /** C = 10^intercept. */
  coefficient: number;
}

/**
 * Fits `log10 y = log10 C + p·log10 x` by ordinary least squares.
 *
 * @param xs - Abscissae, finite and > 0, at least 2 distinct.
 * @param ys - Ordinates, finite and > 0, same length.
 * @returns The line in log10 units plus `exponent` p and `coefficient` C.
 * @throws Error if a value is not finite and > 0, the lengths differ, or < 2 distinct x.
 * @example logLogFit([1, 10, 100], [5, 50, 500]).exponent; // 1
 */
export function logLogFit(xs: readonly number[], ys: readonly number[]): LogLogFit {
  if (xs.length !== ys.length) {
    throw new ConfigError(`logLogFit: xs has ${xs.length} values but ys has ${ys.length}`);
  }
  xs.forEach((x, i) => {
    if (!(Number.isFinite(x) && x > 0 && Number.isFinite(ys[i]) && ys[i] > 0)) {
      throw new ConfigError(`logLogFit: point ${i} must be finite and > 0, got (${x}, ${ys[i]})`);
    }
  });
  const fit = fitLine(xs.map(Math.log10), ys.map(Math.log10));
  return { ...fit, exponent: fit.slope, coefficient: Math.pow(10, fit.intercept) };
}

/** What a cost is counted in. */
export type CostQuantity = "updates" | "examples";

/** A method of the theory table. */
export type TheoryMethod = "sgd" | "adaptive" | "gd";

/** A function class of the theory table. */
export type FunctionClass = "smooth-convex" | "strongly-convex";

/** One cell of the theory table. */
export interface TheoryOrder {
  functionClass: FunctionClass;
  method: TheoryMethod;
  quantity: CostQuantity;
  /** The order as printed in the seed, e.g. "O(log(1/ε)/ε)". */
  label: string;
  /** The order's growth without its constant, as a function of ε and the data-set size n. */
  order(epsilon: number, n: number): number;
}

const inv = (e: number) => 1 / e;
const inv2 = (e: number) => 1 / (e * e);
const log = (e: number) => Math.log(1 / e);

/**
 * The theory table of seed 001 (Sievert & Charles 2019, "Main result"): model updates and
 * examples processed to reach F(x) − F* ≤ ε with SGD, adaptive batch sizes (AdaDamp) and
 * gradient descent, for smooth convex and strongly convex (PL) losses.
 *
 * | class | quantity | SGD | adaptive | GD |
 * |---|---|---|---|---|
 * | smooth convex | updates | 1/ε² | 1/ε | 1/ε |
 * | strongly convex | updates | 1/ε | log(1/ε) | log(1/ε) |
 * | smooth convex | examples | 1/ε² | 1/ε² | n/ε |
 * | strongly convex | examples | 1/ε | log(1/ε)/ε | n·log(1/ε) |
 */
export const THEORY_ORDERS: readonly TheoryOrder[] = Object.freeze([
  {
    functionClass: "smooth-convex",
    method: "sgd",
    quantity: "updates",
    label: "O(1/ε²)",
    order: inv2,
  },
  {
    functionClass: "smooth-convex",
    method: "adaptive",
    quantity: "updates",
    label: "O(1/ε)",
    order: inv,
  },
  {
    functionClass: "smooth-convex",
    method: "gd",
    quantity: "updates",
    label: "O(1/ε)",
    order: inv,
  },
  {
    functionClass: "strongly-convex",
    method: "sgd",
    quantity: "updates",
    label: "O(1/ε)",
    order: inv,
  },
  {
    functionClass: "strongly-convex",
    method: "adaptive",
    quantity: "updates",
    label: "O(log(1/ε))",
    order: log,
  },
  {
    functionClass: "strongly-convex",
    method: "gd",
    quantity: "updates",
    label: "O(log(1/ε))",
    order: log,
  },
  {
    functionClass: "smooth-convex",
    method: "sgd",
    quantity: "examples",
    label: "O(1/ε²)",
    order: inv2,
  },
  {
    functionClass: "smooth-convex",
    method: "adaptive",
    quantity: "examples",
    label: "O(1/ε²)",
    order: inv2,
  },
  {
    functionClass: "smooth-convex",
    method: "gd",
    quantity: "examples",
    label: "O(n/ε)",
    order: (e: number, n: number) => n / e,
  },
  {
    functionClass: "strongly-convex",
    method: "sgd",
    quantity: "examples",
    label: "O(1/ε)",
    order: inv,
  },
  {
    functionClass: "strongly-convex",
    method: "adaptive",
    quantity: "examples",
    label: "O(log(1/ε)/ε)",
    order: (e: number) => log(e) / e,
  },
  {
    functionClass: "strongly-convex",
    method: "gd",
    quantity: "examples",
    label: "O(n log(1/ε))",
    order: (e: number, n: number) => n * log(e),
  },
]);

/**
 * The cell of {@link THEORY_ORDERS} for a function class, method and quantity.
 * @throws Error if there is no such cell.
 * @example theoryOrder("strongly-convex", "adaptive", "examples").label; // "O(log(1/ε)/ε)"
 */
export function theoryOrder(
  functionClass: FunctionClass,
  method: TheoryMethod,
  quantity: CostQuantity,
): TheoryOrder {
  const o = THEORY_ORDERS.find(
    (t) => t.functionClass === functionClass && t.method === method && t.quantity === quantity,
  );
  if (o == null)
    throw new ConfigError(`no theory order for ${functionClass}/${method}/${quantity}`);
  return o;
}

/**
 * The slope an order predicts on log-log axes over the given tolerances: the least-squares
 * slope of log10(order(ε)) against log10 ε (module comment).
 *
 * @param order - The order's growth (e.g. `theoryOrder(...).order`); must be > 0 on `epsilons`.
 * @param epsilons - Tolerances ε in (0, 1), at least 2 distinct.
 * @param n - Data-set size passed to the order (only n-dependent orders use it); default 1.
 * @returns The predicted slope (−1 for 1/ε; between −1 and 0 for log(1/ε)).
 * @throws Error if an ε is not in (0, 1) or the order is not finite and > 0 there.
 * @example predictedSlope((e) => 1 / e, [1e-1, 1e-2, 1e-3]); // -1
 */
export function predictedSlope(
  order: (epsilon: number, n: number) => number,
  epsilons: readonly number[],
  n = 1,
): number {
  for (const e of epsilons) {
    if (!(e > 0 && e < 1)) throw new ConfigError(`epsilons must be in (0, 1), got ${e}`);
  }
  return logLogFit(
    epsilons,
    epsilons.map((e) => order(e, n)),
  ).exponent;
}
