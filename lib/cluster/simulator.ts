/**
 * Cluster simulator: what a training run's sequence of batch sizes would cost on a cluster of
 * data-parallel devices — projected wall-clock and price — so constant and adaptive schedules
 * can be compared beyond one machine (seed 001: adaptive batches suit distributed training;
 * seed 003: the cloud bill).
 *
 * The model, per model update with global batch B:
 *
 * 1. Devices: K(B) = min(K_max, max(K_min, ⌈B / b_dev⌉)) — devices are added as the batch
 *    grows, each taking at most b_dev examples (the per-device batch that fits / is preferred).
 *    Devices are billed only while allocated (elastic, as in AdaptDL/Pollux).
 * 2. Compute: each device processes b = B/K examples at the per-device throughput T(b)
 *    (examples/s, from a measured curve, interpolated linearly in log b):
 *    t_compute = b / T(b).
 * 3. Gradient exchange (all-reduce of the gradient, `gradientBytes`): for K > 1,
 *    t_comm = α + β · gradientBytes · (K − 1)/K; 0 for K = 1. α is the latency term and β
 *    seconds per byte (for ring all-reduce β = 2/bandwidth). Communication is not overlapped
 *    with compute (a conservative bound; overlap would hide up to min(t_compute, t_comm)).
 * 4. Step time t = t_compute + t_comm; wall-clock = Σ t (+ `startupSeconds` whenever K changes,
 *    the cost of re-sharding); device-seconds = Σ K·t; cost = device-hours × price.
 *
 * All functions are pure and take plain numbers.
 */
import { interpolateThroughput, ThroughputCurvePoint } from "../schedules/goodput";
import { ConfigError } from "../core/errors";

/** The cluster a run is projected onto. */
export interface ClusterModel {
  /** Per-device throughput, examples/s against the per-device batch (≥ 1 point, B increasing). */
  throughput: ThroughputCurvePoint[];
  /** Largest per-device batch b_dev (memory cap or preferred size), integer ≥ 1. */
  maxPerDeviceBatch: number;
  /** Most devices K_max, integer ≥ 1. */
  maxDevices: number;
  /** Fewest devices K_min (default 1). */
  minDevices?: number;
  /** All-reduce latency α, seconds ≥ 0. */
  alpha: number;
  /** All-reduce cost per byte β, seconds/byte ≥ 0. */
  beta: number;
  /** Bytes of the gradient exchanged per update (e.g. 4 × parameters for float32). */
  gradientBytes: number;
  /** Price per device-hour (any currency) ≥ 0. */
  pricePerDeviceHour: number;
  /** Seconds lost each time the number of devices changes (default 0). */
  rescaleSeconds?: number;
}

/** The projection of one run. */
export interface Projection {
  /** Model updates simulated. */
  steps: number;
  /** Examples processed (Σ B). */
  examples: number;
  /** Projected wall-clock seconds. */
  wallClock: number;
  /** Σ K·t, device-seconds. */
  deviceSeconds: number;
  /** deviceSeconds / 3600 × price. */
  cost: number;
  /** Largest number of devices used. */
  maxDevicesUsed: number;
  /** Seconds spent in gradient exchange. */
  commSeconds: number;
  /** Times the device count changed. */
  rescales: number;
}

/** Raised for an invalid cluster model or batch sequence, naming the field and value. */
export class ClusterModelError extends ConfigError {
  override name = "ClusterModelError";
}

function check(cond: boolean, msg: string): void {
  if (!cond) throw new ClusterModelError(msg);
}

/** Validates a cluster model. @throws ClusterModelError naming the field and value. */
export function validateClusterModel(m: ClusterModel): void {
  check(
    Number.isInteger(m.maxPerDeviceBatch) && m.maxPerDeviceBatch >= 1,
    `maxPerDeviceBatch must be an integer >= 1, got ${m.maxPerDeviceBatch}`,
  );
  check(
    Number.isInteger(m.maxDevices) && m.maxDevices >= 1,
    `maxDevices must be an integer >= 1, got ${m.maxDevices}`,
  );
  const kMin = m.minDevices ?? 1;
  check(
    Number.isInteger(kMin) && kMin >= 1 && kMin <= m.maxDevices,
    `minDevices must be an integer in [1, maxDevices], got ${kMin}`,
  );
  for (const [k, v] of [
    ["alpha", m.alpha],
    ["beta", m.beta],
    ["gradientBytes", m.gradientBytes],
    ["pricePerDeviceHour", m.pricePerDeviceHour],
    ["rescaleSeconds", m.rescaleSeconds ?? 0],
  ] as const) {
    check(Number.isFinite(v) && v >= 0, `${k} must be a finite number >= 0, got ${v}`);
  }
  interpolateThroughput(m.throughput, 1); // validates the curve
}

/** Devices used for global batch B: min(K_max, max(K_min, ⌈B / b_dev⌉)). */
export function devicesFor(m: ClusterModel, batchSize: number): number {
  return Math.min(
    m.maxDevices,
    Math.max(m.minDevices ?? 1, Math.ceil(batchSize / m.maxPerDeviceBatch)),
  );
}

/**
 * Time of one model update with global batch B on K devices: compute (B/K)/T(B/K) plus, for
 * K > 1, all-reduce α + β·bytes·(K−1)/K. Returns both parts, seconds.
 */
export function stepTime(
  m: ClusterModel,
  batchSize: number,
  devices: number,
): { compute: number; comm: number } {
  const b = batchSize / devices;
  const compute = b / interpolateThroughput(m.throughput, b);
  const comm = devices > 1 ? m.alpha + (m.beta * m.gradientBytes * (devices - 1)) / devices : 0;
  return { compute, comm };
}

/**
 * Projects a run — its batch size at every model update, in order — onto the cluster.
 * @param batchSizes B_k per update, integers ≥ 1 (e.g. a run log's `batchSize` column).
 * @throws ClusterModelError on an invalid model or batch size (naming the index and value).
 * @example
 * simulateRun([64, 64, 128], { throughput: [{batchSize: 64, examplesPerSecond: 640}],
 *   maxPerDeviceBatch: 64, maxDevices: 8, alpha: 0.01, beta: 1e-9, gradientBytes: 4e6,
 *   pricePerDeviceHour: 3 })
 */
export function simulateRun(batchSizes: readonly number[], m: ClusterModel): Projection {
  validateClusterModel(m);
  let wallClock = 0;
  let deviceSeconds = 0;
  let commSeconds = 0;
  let examples = 0;
  let maxUsed = 0;
  let rescales = 0;
  let prevK: number | null = null;
  batchSizes.forEach((B, i) => {
    check(Number.isInteger(B) && B >= 1, `batchSizes[${i}] must be an integer >= 1, got ${B}`);
    const K = devicesFor(m, B);
    const { compute, comm } = stepTime(m, B, K);
    let t = compute + comm;
    if (prevK != null && K !== prevK) {
      rescales += 1;
      t += m.rescaleSeconds ?? 0;
    }
    prevK = K;
    wallClock += t;
    deviceSeconds += K * t;
    commSeconds += comm;
    examples += B;
    maxUsed = Math.max(maxUsed, K);
  });
  return {
    steps: batchSizes.length,
    examples,
    wallClock,
    deviceSeconds,
    cost: (deviceSeconds / 3600) * m.pricePerDeviceHour,
    maxDevicesUsed: maxUsed,
    commSeconds,
    rescales,
  };
}

/** Projects several runs (e.g. constant vs adaptive) onto the same cluster. */
export function compareRuns(
  runs: Record<string, readonly number[]>,
  m: ClusterModel,
): Record<string, Projection> {
  return Object.fromEntries(Object.entries(runs).map(([k, b]) => [k, simulateRun(b, m)]));
}

/** A fixed-width text table of projections. */
export function formatProjections(p: Record<string, Projection>, currency = "$"): string {
  const head =
    "run                              updates   examples   devices(max)   wall-clock (h)   device-hours   cost";
  const lines = Object.entries(p).map(
    ([name, r]) =>
      `${name.padEnd(32)} ${String(r.steps).padStart(7)} ${String(r.examples).padStart(10)} ${String(r.maxDevicesUsed).padStart(14)} ${(r.wallClock / 3600).toFixed(3).padStart(16)} ${(r.deviceSeconds / 3600).toFixed(3).padStart(14)}   ${currency}${r.cost.toFixed(2)}`,
  );
  return [head, ...lines].join("\n");
}
