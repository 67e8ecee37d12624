/** A seeded N(0, 1) stream for the theory testbed (xoroshiro128+ from pure-rand, Box–Muller). */

// pure-rand 8 publishes its modules only through package.json "exports" subpaths (see
// lib/data/sampler.ts): load by subpath, type via the lib/ files.
/* eslint-disable @typescript-eslint/no-require-imports */
type Xoroshiro = typeof import("pure-rand/lib/generator/xoroshiro128plus");
type UniformFloat64 = typeof import("pure-rand/lib/distribution/uniformFloat64");
const { xoroshiro128plus } = require("pure-rand/generator/xoroshiro128plus") as Xoroshiro;
const { uniformFloat64 } = require("pure-rand/distribution/uniformFloat64") as UniformFloat64;
/* eslint-enable @typescript-eslint/no-require-imports */

/** A seeded N(0, 1) stream (xoroshiro128+ and Box–Muller). */
export function gaussianStream(seed: number): () => number {
  const rng = xoroshiro128plus(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u1 = 1 - uniformFloat64(rng); // (0, 1]
    const u2 = uniformFloat64(rng);
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };
}
