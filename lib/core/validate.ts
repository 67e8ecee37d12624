/**
 * Argument validators shared by every layer: each checks one value and throws a
 * {@link ConfigError} (or the error class the caller passes, e.g. `DatasetError` in the data
 * layer) whose message names the parameter, the valid range and the value given.
 */
import { ConfigError } from "./errors";

/** An error class a validator may throw: constructed from a message. */
export type ErrorClass = new (message: string) => Error;

/**
 * Validates an integer ≥ `min`.
 * @param name - The parameter's name, used in the message.
 * @throws ConfigError (or `error`) `"<name> must be an integer >= <min>, got <value>"`.
 * @example requireInt("batchSize", 64, 1) // ok
 */
export function requireInt(
  name: string,
  value: number,
  min: number,
  error: ErrorClass = ConfigError,
): void {
  if (!Number.isInteger(value) || value < min) {
    throw new error(`${name} must be an integer >= ${min}, got ${value}`);
  }
}

/**
 * Validates a finite number > `min` (or ≥ `min` when `inclusive`).
 * @throws ConfigError (or `error`) `"<name> must be a finite number > <min>, got <value>"`.
 * @example requireNumber("learningRate", 1e-3, 0) // ok
 */
export function requireNumber(
  name: string,
  value: number,
  min: number,
  inclusive = false,
  error: ErrorClass = ConfigError,
): void {
  const ok = Number.isFinite(value) && (inclusive ? value >= min : value > min);
  if (!ok) {
    throw new error(
      `${name} must be a finite number ${inclusive ? ">=" : ">"} ${min}, got ${value}`,
    );
  }
}

/**
 * Validates a finite number > 0.
 * @throws ConfigError (or `error`) `"<name> must be a finite number > 0, got <value>"`.
 */
export function requirePositive(
  name: string,
  value: number,
  error: ErrorClass = ConfigError,
): void {
  requireNumber(name, value, 0, false, error);
}

/**
 * Validates a finite number (any sign).
 * @throws ConfigError (or `error`) `"<name> must be a finite number, got <value>"`.
 */
export function requireFinite(name: string, value: number, error: ErrorClass = ConfigError): void {
  if (!Number.isFinite(value)) throw new error(`${name} must be a finite number, got ${value}`);
}

/**
 * Validates a finite number in the interval from `lo` to `hi`; each end is closed unless
 * `loOpen` / `hiOpen` is set.
 *
 * @param name - The parameter's name, used in the message.
 * @param value - The value to check.
 * @param lo - Lower end of the interval.
 * @param hi - Upper end of the interval.
 * @param open - `loOpen` / `hiOpen`: exclude that end (default: both closed).
 * @throws ConfigError (or `error`) naming the parameter, the interval and the value, e.g.
 *   `rho must be a finite number in [0, 1), got 1`.
 * @example requireInRange("rho", 0.9, 0, 1, { hiOpen: true }) // ok
 */
export function requireInRange(
  name: string,
  value: number,
  lo: number,
  hi: number,
  open: { loOpen?: boolean; hiOpen?: boolean } = {},
  error: ErrorClass = ConfigError,
): void {
  const okLo = open.loOpen ? value > lo : value >= lo;
  const okHi = open.hiOpen ? value < hi : value <= hi;
  if (!(Number.isFinite(value) && okLo && okHi)) {
    const interval = `${open.loOpen ? "(" : "["}${lo}, ${hi}${open.hiOpen ? ")" : "]"}`;
    throw new error(`${name} must be a finite number in ${interval}, got ${value}`);
  }
}
