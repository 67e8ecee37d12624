/**
 * Benchmark: data-parallel replicas on one machine — samples/s of synchronous training with
 * K = 1 and K = 2 replicas (worker threads, each with its own wasm backend + kernel pack,
 * gradients averaged through shared memory), on the CNNs, measured in one run.
 *
 *   npx tsx bench/replicas.ts [--steps N]
 */
import { createReplicaGroup } from "../lib/parallel/replicas";
import { ModelSpec } from "../lib/parallel/protocol";

async function measure(K: number, spec: ModelSpec, B: number, steps: number): Promise<number> {
  const g = await createReplicaGroup({
    replicas: K,
    model: spec,
    data: { kind: "fashion-mnist", trainSubset: 10000 },
    optimizer: { name: "adam", learningRate: 1e-3 },
  });
  try {
    const batch = (k: number) => Int32Array.from({ length: B }, (_, i) => (k * B + i) % 10000);
    for (let k = 0; k < 3; k++) await g.step(batch(k), 1e-3);
    const t0 = performance.now();
    for (let k = 0; k < steps; k++) await g.step(batch(k + 3), 1e-3);
    return (steps * B) / ((performance.now() - t0) / 1000);
  } finally {
    await g.close();
  }
}

async function main(): Promise<void> {
  const i = process.argv.indexOf("--steps");
  const steps = i >= 0 ? Number(process.argv[i + 1]) : 20;
  const gap: ModelSpec = { builder: "gapCnn", inputShape: [28, 28, 1], numClasses: 10, seed: 1 };
  const small: ModelSpec = {
    builder: "smallCnn",
    inputShape: [28, 28, 1],
    numClasses: 10,
    seed: 1,
  };
  const cases: { name: string; spec: ModelSpec; B: number }[] = [
    { name: "CNN conv32-pool-conv64-gap-dense (bench CNN)", spec: gap, B: 64 },
    { name: "CNN conv32-pool-conv64-gap-dense (bench CNN)", spec: gap, B: 128 },
    { name: "CNN conv32-pool-conv64-gap-dense (bench CNN)", spec: gap, B: 512 },
    { name: "small CNN of the main job", spec: small, B: 128 },
    { name: "small CNN of the main job", spec: small, B: 512 },
  ];
  console.log(
    `data-parallel replicas, synchronous Adam, ${steps} timed steps after 3 warm-up, ${new Date().toISOString()}\n`,
  );
  console.log("| model | global B | K=1 samples/s | K=2 samples/s | K=2 / K=1 |");
  console.log("|---|---|---|---|---|");
  for (const c of cases) {
    const one = await measure(1, c.spec, c.B, steps);
    const two = await measure(2, c.spec, c.B, steps);
    console.log(
      `| ${c.name} | ${c.B} | ${one.toFixed(0)} | ${two.toFixed(0)} | ${(two / one).toFixed(2)}x |`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
