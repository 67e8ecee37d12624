/**
 * The one error family of batchwise: every error thrown in `lib/` is a {@link BatchwiseError}
 * subclass named after what went wrong, so a caller can catch the library's errors apart from
 * its own (`e instanceof BatchwiseError`) and tell them apart by class.
 *
 * | class              | thrown for                                                          |
 * |--------------------|---------------------------------------------------------------------|
 * | `ConfigError`      | an invalid argument or option (the message names it and its value)  |
 * | `DatasetError`     | an unreadable, malformed or inconsistent dataset file or argument   |
 * | `CheckpointError`  | a missing, malformed or incompatible checkpoint                     |
 * | `ConvergenceError` | a training loss or gradient that is NaN/Inf or above its bound      |
 * | `BackendError`     | a tfjs backend or kernel that cannot run what was asked             |
 *
 * Layers that validate many parameters of one kind have named subclasses of `ConfigError`
 * (`ScheduleConfigError`, `OptimizerConfigError`, `ClusterModelError`), so existing catches keep
 * working. Argument checks go through lib/core/validate.ts.
 */

/** Base class of every error batchwise throws. */
export class BatchwiseError extends Error {
  override name = "BatchwiseError";

  /**
   * @param message - What went wrong, naming the parameter, file or step and the bad value.
   * @param options - Optional `{ cause }`: the underlying error.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** An invalid argument or option; the message names the parameter and the value given. */
export class ConfigError extends BatchwiseError {
  override name = "ConfigError";
}

/**
 * Every data problem: unreadable, truncated or malformed files, inconsistent datasets, and
 * invalid arguments to the data functions; the message names the file or parameter and value.
 *
 * @example
 * ```ts
 * try {
 *   readIdx("missing.idx");
 * } catch (e) {
 *   // e.message: "missing.idx: cannot read file (ENOENT: no such file or directory, ...)"
 *   if (e instanceof DatasetError) console.error(e.message);
 * }
 * ```
 */
export class DatasetError extends BatchwiseError {
  override name = "DatasetError";
}

/** A checkpoint that is missing, malformed, or does not match the run resuming it. */
export class CheckpointError extends BatchwiseError {
  override name = "CheckpointError";
}

/** The loss or gradient is NaN/Inf or above its bound; names the step, batch size and learning rate. */
export class ConvergenceError extends BatchwiseError {
  override name = "ConvergenceError";
}

/** A backend that cannot be initialised, or a kernel given inputs it does not support. */
export class BackendError extends BatchwiseError {
  override name = "BackendError";
}
