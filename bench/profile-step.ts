/**
 * Where an Adam training step of a bench model spends its time, by tfjs kernel: wraps the
 * engine's `runKernel` with a timer for one step (after two warm-up steps) and prints the
 * kernels by total time, then times the optimizer's update alone (random gradients; tfjs's
 * `tf.train.adam` and batchwise's multi-tensor Adam) and the squared-norm reduction `trainStep`
 * adds.
 *
 *   npx tsx bench/profile-step.ts [backend] [model name prefix]   # e.g. tensorflow EfficientNet
 *
 * `tf.profile` is not used: with thousands of kernels per step it overflows the call stack
 * (tfjs-core 4.22 spreads every kernel's byte count into one Math.max). Kernels run
 * synchronously on the tensorflow, wasm and cpu backends, so wall-clock per call is their
 * time; nested kernel calls are counted in both.
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend, describeBackend } from "../lib/backend";
import { trainStep } from "../lib/train/step";
import { trainableVariables } from "../lib/grad/batch";
import { Adam } from "../lib/optim/adam";
import { BENCH_CASES } from "./models";

async function main(): Promise<void> {
  const info = await initBackend(process.argv[2] ?? "auto");
  const prefix = process.argv[3] ?? "";
  const c = BENCH_CASES.find((q) => q.name.startsWith(prefix));
  if (c == null) throw new Error(`no bench model starts with '${prefix}'`);
  console.log(`${describeBackend(info)}; ${c.name}, B = ${c.batchSize}`);
  const { model, task, batch } = c.build();
  const opt = new Adam({ learningRate: 1e-3 });
  const run = () =>
    trainStep(model, opt, task, batch, { microBatchSize: batch.size, learningRate: 1e-3 });
  run();
  run();
  const engine = tf.engine() as unknown as {
    runKernel: (name: string, inputs: unknown, attrs: unknown) => unknown;
  };
  const original = engine.runKernel.bind(engine);
  const byKernel = new Map<string, { ms: number; calls: number }>();
  engine.runKernel = (name, inputs, attrs) => {
    const t0 = performance.now();
    try {
      return original(name, inputs, attrs);
    } finally {
      const a = byKernel.get(name) ?? { ms: 0, calls: 0 };
      a.ms += performance.now() - t0;
      a.calls += 1;
      byKernel.set(name, a);
    }
  };
  const t0 = performance.now();
  run();
  const stepMs = performance.now() - t0;
  engine.runKernel = original;
  let sum = 0;
  let calls = 0;
  for (const a of byKernel.values()) {
    sum += a.ms;
    calls += a.calls;
  }
  console.log(
    `one step ${stepMs.toFixed(1)} ms; ${calls} kernel calls, ${sum.toFixed(1)} ms in them`,
  );
  for (const [k, a] of [...byKernel.entries()].sort((p, q) => q[1].ms - p[1].ms).slice(0, 20)) {
    console.log(
      `  ${k.padEnd(38)} ${String(a.calls).padStart(6)} calls ${a.ms.toFixed(1).padStart(8)} ms`,
    );
  }
  const vars = trainableVariables(model);
  const grads: Record<string, tf.Variable> = {};
  for (const v of vars) grads[v.name] = tf.variable(tf.randomNormal(v.shape), false);
  const timeUpdate = (o: tf.Optimizer): number => {
    for (let i = 0; i < 3; i++) o.applyGradients(grads);
    const t = performance.now();
    for (let i = 0; i < 5; i++) o.applyGradients(grads);
    o.dispose();
    return (performance.now() - t) / 5;
  };
  const tfjsAdamMs = timeUpdate(tf.train.adam(1e-3));
  const adamMs = timeUpdate(new Adam({ learningRate: 1e-3 }));
  const t1 = performance.now();
  for (let i = 0; i < 5; i++) {
    tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync());
  }
  const normMs = (performance.now() - t1) / 5;
  const params = vars.reduce((p, v) => p + v.size, 0);
  console.log(
    `Adam update alone (${vars.length} variables, ${params} parameters): tf.train.adam ${tfjsAdamMs.toFixed(2)} ms, batchwise's multi-tensor Adam ${adamMs.toFixed(2)} ms; |g|² reduction: ${normMs.toFixed(2)} ms`,
  );
  tf.dispose(Object.values(grads));
  model.dispose();
  opt.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
