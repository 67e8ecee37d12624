import type { DataSource } from "../../lib/data/source";
import { randn } from "./backends";

/**
 * A seeded 3-class problem on 6 Gaussian features: the class is the number of the first two
 * features above their thresholds (`x0 > 0`, `x1 > secondThreshold`).
 */
export function threeClassSource(n: number, seed: number, secondThreshold = 0): DataSource {
  const xs = randn(n * 6, seed);
  const ys = new Int32Array(n).map(
    (_, i) => (xs[i * 6] > 0 ? 1 : 0) + (xs[i * 6 + 1] > secondThreshold ? 1 : 0),
  );
  return {
    n,
    batch(idx) {
      const x = new Float32Array(idx.length * 6);
      idx.forEach((k, i) => x.set(xs.subarray(k * 6, k * 6 + 6), i * 6));
      return { x, y: Int32Array.from(idx, (k) => ys[k]), size: idx.length };
    },
  };
}
