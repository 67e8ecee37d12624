import { DEFAULT_CHANGE_THRESHOLD } from "./threshold";
import { BatchSchedule, requireInt, requireNumber, ScheduleConfigError } from "./types";

/** One measured point of the throughput curve: examples per second at batch size B. */
export interface ThroughputCurvePoint {
  batchSize: number;
  examplesPerSecond: number;
}

/** Parameters of {@link goodputSchedule}. */
export interface GoodputScheduleOptions {
  /** B_0: the base batch of the statistical efficiency, and the batch before any estimate. */
  initialBatchSize: number;
  /** Measured throughput (≥ 1 point, B strictly increasing, examples/s > 0); see lib/probes/hardware.ts. */
  throughput: ThroughputCurvePoint[];
  /** Smallest candidate batch (default: the smallest measured B). */
  minBatchSize?: number;
  /** Largest candidate batch (default: the largest measured B — the largest that fits). */
  maxBatchSize?: number;
  /** Change B only if the predicted goodput gain exceeds this fraction (default 0.05). */
  changeThreshold?: number;
}

/** State of {@link goodputSchedule}: the batch in force. */
export interface GoodputScheduleState {
  batchSize: number;
}

/**
 * Examples/s at batch size B, interpolated linearly in log B between measured points and held
 * constant beyond the ends. Pure.
 * @throws ScheduleConfigError if the curve is empty, unsorted or has a non-positive value.
 */
export function interpolateThroughput(
  curve: readonly ThroughputCurvePoint[],
  batchSize: number,
): number {
  checkCurve(curve);
  if (batchSize <= curve[0].batchSize) return curve[0].examplesPerSecond;
  const last = curve[curve.length - 1];
  if (batchSize >= last.batchSize) return last.examplesPerSecond;
  let i = 1;
  while (curve[i].batchSize < batchSize) i++;
  const a = curve[i - 1];
  const b = curve[i];
  const t = Math.log(batchSize / a.batchSize) / Math.log(b.batchSize / a.batchSize);
  return a.examplesPerSecond + t * (b.examplesPerSecond - a.examplesPerSecond);
}

function checkCurve(curve: readonly ThroughputCurvePoint[]): void {
  if (!Array.isArray(curve) || curve.length === 0) {
    throw new ScheduleConfigError(
      "throughput must be a non-empty array of {batchSize, examplesPerSecond}",
    );
  }
  curve.forEach((p, i) => {
    if (!Number.isInteger(p.batchSize) || p.batchSize < 1) {
      throw new ScheduleConfigError(
        `throughput[${i}].batchSize must be an integer >= 1, got ${p.batchSize}`,
      );
    }
    if (!(Number.isFinite(p.examplesPerSecond) && p.examplesPerSecond > 0)) {
      throw new ScheduleConfigError(
        `throughput[${i}].examplesPerSecond must be > 0, got ${p.examplesPerSecond}`,
      );
    }
    if (i > 0 && p.batchSize <= curve[i - 1].batchSize) {
      throw new ScheduleConfigError(
        `throughput batch sizes must increase, got ${curve[i - 1].batchSize} then ${p.batchSize}`,
      );
    }
  });
}

/**
 * Goodput of batch size B: `throughput(B) · (B_noise + B_0)/(B_noise + B)` — examples/s times
 * the statistical efficiency relative to B_0 (Qiao et al., OSDI 2021, "Pollux", §3.1–3.2).
 */
export function goodput(
  curve: readonly ThroughputCurvePoint[],
  b0: number,
  bNoise: number,
  batchSize: number,
): number {
  return interpolateThroughput(curve, batchSize) * ((bNoise + b0) / (bNoise + batchSize));
}

/**
 * Batch size maximising goodput: among the candidates (the measured batch sizes, powers of two
 * and B_0 inside [B_min, B_max]), the B with the largest
 * `throughput(B) · (B_noise + B_0)/(B_noise + B)`, with B_noise taken as the estimator's
 * B_simple (`obs.noise.bSimple`). The batch changes only when the best candidate's predicted
 * goodput beats the current batch's by more than `changeThreshold` (anti-flapping).
 *
 * Source: Pollux/AdaptDL (Qiao et al. 2021, §3): goodput = throughput × statistical efficiency,
 * with efficiency from the gradient noise scale (McCandlish et al. 2018). Departures: B_simple
 * stands in for B_noise (as AdaptDL does); the learning rate is not rescaled here (combine with
 * an LR rule, e.g. AdaScale, if wanted); one device, so only B is chosen, not the allocation.
 *
 * @throws ScheduleConfigError on invalid parameters, naming them.
 */
export function goodputSchedule(opts: GoodputScheduleOptions): BatchSchedule<GoodputScheduleState> {
  const b0 = opts.initialBatchSize;
  requireInt("initialBatchSize", b0, 1);
  checkCurve(opts.throughput);
  const curve = opts.throughput.map((p) => ({ ...p }));
  const bMin = opts.minBatchSize ?? curve[0].batchSize;
  requireInt("minBatchSize", bMin, 1);
  const bMax = opts.maxBatchSize ?? curve[curve.length - 1].batchSize;
  requireInt("maxBatchSize", bMax, Math.max(bMin, b0));
  const threshold = opts.changeThreshold ?? DEFAULT_CHANGE_THRESHOLD;
  requireNumber("changeThreshold", threshold, 0, true);
  const cands = new Set<number>([b0, bMin, bMax, ...curve.map((p) => p.batchSize)]);
  for (let b = 1; b <= bMax; b *= 2) cands.add(b);
  const candidates = [...cands].filter((b) => b >= bMin && b <= bMax).sort((p, q) => p - q);
  return {
    name: "goodput",
    init: () => ({ batchSize: b0 }),
    update(state, obs) {
      const bNoise = obs.noise?.bSimple;
      if (bNoise == null || !Number.isFinite(bNoise)) {
        return { batchSize: state.batchSize, lrFactor: 1, state };
      }
      let best = state.batchSize;
      let bestG = goodput(curve, b0, bNoise, best);
      const current = bestG;
      for (const b of candidates) {
        const g = goodput(curve, b0, bNoise, b);
        if (g > bestG) {
          best = b;
          bestG = g;
        }
      }
      const b = bestG > current * (1 + threshold) ? best : state.batchSize;
      return { batchSize: b, lrFactor: 1, state: { batchSize: b } };
    },
  };
}
