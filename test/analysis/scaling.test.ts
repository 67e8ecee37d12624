/** Log-log fits and the theory table's predicted slopes (lib/analysis/scaling.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { logLogFit, predictedSlope, THEORY_ORDERS, theoryOrder } from "../../lib/analysis/scaling";

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("logLogFit recovers y = C·x^p exactly", () => {
  const xs = [1e-4, 1e-3, 1e-2, 1e-1];
  const f = logLogFit(
    xs,
    xs.map((x) => 3 * Math.pow(x, -1.5)),
  );
  close(f.exponent, -1.5, 1e-12);
  close(f.coefficient, 3, 1e-12);
  close(f.r2, 1);
  assert.throws(() => logLogFit([1, 2], [1, 0]), /point 1/);
  assert.throws(() => logLogFit([1, 2], [1]), /ys has 1/);
});

test("predicted slopes: −1 for 1/ε, −2 for 1/ε², flatter for log(1/ε), steeper for log(1/ε)/ε", () => {
  const eps = [1e-1, 10 ** -1.5, 1e-2, 10 ** -2.5, 1e-3, 10 ** -3.5, 1e-4];
  close(predictedSlope(theoryOrder("strongly-convex", "sgd", "updates").order, eps), -1, 1e-12);
  close(predictedSlope(theoryOrder("smooth-convex", "sgd", "examples").order, eps), -2, 1e-12);
  // log(1/ε) over ε ∈ [1e-4, 1e-1]: local slope −1/ln(1/ε) runs from −0.43 to −0.11.
  const logSlope = predictedSlope(theoryOrder("strongly-convex", "gd", "updates").order, eps);
  assert.ok(logSlope > -0.43 && logSlope < -0.11, `${logSlope}`);
  // n·log(1/ε): n is a constant factor, same slope.
  close(
    predictedSlope(theoryOrder("strongly-convex", "gd", "examples").order, eps, 60000),
    logSlope,
    1e-12,
  );
  const adaEx = predictedSlope(theoryOrder("strongly-convex", "adaptive", "examples").order, eps);
  close(adaEx, -1 + logSlope, 1e-12); // log(f·g) = log f + log g, and the fit is linear
  assert.throws(() => predictedSlope((e) => 1 / e, [0.1, 1]), /\(0, 1\)/);
});

test("the theory table has the 12 cells of seed 001", () => {
  assert.equal(THEORY_ORDERS.length, 12);
  assert.equal(theoryOrder("strongly-convex", "adaptive", "examples").label, "O(log(1/ε)/ε)");
  assert.equal(theoryOrder("smooth-convex", "gd", "examples").label, "O(n/ε)");
  assert.throws(() => theoryOrder("smooth-convex", "gd", "flops" as never), /no theory order/);
});
