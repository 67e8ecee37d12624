/**
 * The one error type of the dataset layer.
 *
 * Every problem with a dataset file or a dataset argument (a missing or corrupt file, a wrong
 * magic number, a label out of range, a NaN feature, an md5 mismatch) is raised as a
 * {@link DatasetError} whose message names the file or parameter and the offending value.
 */

/**
 * Raised for every data problem: unreadable, truncated or malformed files, inconsistent
 * datasets, and invalid arguments to the data functions.
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
export class DatasetError extends Error {
  override name = "DatasetError";

  /**
   * Creates a dataset error.
   *
   * @param message - What went wrong, naming the file or parameter and the bad value.
   * @param options - Optional `{ cause }`: the underlying error (e.g. from `fs` or `zlib`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
