/**
 * The bias-corrected exponential moving average (Kingma & Ba 2015, Adam §3): m_t = β·m_{t−1} +
 * (1−β)·x_t from m_0 = 0, read as m_t/(1 − β^t). Plain, serialisable state.
 */
import { ConfigError } from "../core/errors";

/** State of a bias-corrected EMA: plain JSON. */
export interface EmaState {
  /** Decay β in [0, 1). */
  beta: number;
  /** The raw (biased) average m_t, starting from m_0 = 0. */
  value: number;
  /** Number of values absorbed, t ≥ 0. */
  count: number;
}

/**
 * A fresh bias-corrected EMA.
 * @param beta - Decay β in [0, 1); the average's memory is about 1/(1−β) values.
 * @returns `{ beta, value: 0, count: 0 }`.
 * @throws Error if β is not in [0, 1).
 * @example emaInit(0.9); // { beta: 0.9, value: 0, count: 0 }
 */
export function emaInit(beta: number): EmaState {
  if (!(Number.isFinite(beta) && beta >= 0 && beta < 1)) {
    throw new ConfigError(`beta must be a number in [0, 1), got ${beta}`);
  }
  return { beta, value: 0, count: 0 };
}

/**
 * Absorbs one value: m_t = β·m_{t−1} + (1−β)·x_t (Kingma & Ba 2015, Adam, Algorithm 1).
 * @param s - The EMA state (not modified).
 * @param x - The new value, finite.
 * @returns The new state.
 * @throws Error if x is not finite.
 * @example emaUpdate(emaInit(0.5), 4); // { beta: 0.5, value: 2, count: 1 }
 */
export function emaUpdate(s: EmaState, x: number): EmaState {
  if (!Number.isFinite(x)) throw new ConfigError(`EMA input must be finite, got ${x}`);
  return { beta: s.beta, value: s.beta * s.value + (1 - s.beta) * x, count: s.count + 1 };
}

/**
 * The bias-corrected average m̂_t = m_t/(1 − β^t) (Kingma & Ba 2015, §3): with m_0 = 0,
 * m_t = (1−β)Σ_{s≤t} β^{t−s} x_s, whose weights sum to 1 − β^t, so m̂_t is a weighted mean of
 * the x_s (a constant input is returned exactly).
 * @param s - The EMA state.
 * @returns m̂_t, or null before the first value (t = 0).
 * @example emaRead(emaUpdate(emaInit(0.5), 4)); // 4
 */
export function emaRead(s: EmaState): number | null {
  if (s.count === 0) return null;
  return s.value / (1 - Math.pow(s.beta, s.count));
}
