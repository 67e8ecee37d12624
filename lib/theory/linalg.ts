/** Dense symmetric linear algebra in Float64 for the theory testbed: Cholesky solve, eigenvalues. */
import { ConfigError } from "../core/errors";

/**
 * Solves `M x = r` for symmetric positive definite M (d × d, row-major) by Cholesky,
 * `M = R Rᵀ`, then two triangular solves; O(d³/3).
 *
 * @param M - Symmetric positive definite, d × d.
 * @param r - Right-hand side, length d.
 * @returns x, length d.
 * @throws Error if M is not (numerically) positive definite.
 * @example choleskySolve(new Float64Array([4, 2, 2, 3]), new Float64Array([2, 1])) // [0.5, 0]
 */
export function choleskySolve(M: Float64Array, r: Float64Array): Float64Array {
  const d = r.length;
  const R = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = M[i * d + j];
      for (let k = 0; k < j; k++) s -= R[i * d + k] * R[j * d + k];
      if (i === j) {
        if (!(s > 0)) throw new ConfigError(`matrix is not positive definite (pivot ${i}: ${s})`);
        R[i * d + i] = Math.sqrt(s);
      } else {
        R[i * d + j] = s / R[j * d + j];
      }
    }
  }
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = r[i];
    for (let k = 0; k < i; k++) s -= R[i * d + k] * y[k];
    y[i] = s / R[i * d + i];
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < d; k++) s -= R[k * d + i] * x[k];
    x[i] = s / R[i * d + i];
  }
  return x;
}

/**
 * Eigenvalues of a symmetric matrix by the cyclic Jacobi method (Golub & Van Loan, "Matrix
 * Computations", the symmetric Jacobi method), ascending: rotations zero the off-diagonal
 * entries until their squared sum is below 1e-30 of the diagonal's; O(d³) per sweep.
 *
 * @param M - Symmetric, d × d row-major (not modified).
 * @param d - Dimension.
 * @returns The d eigenvalues, ascending.
 * @example symmetricEigenvalues(new Float64Array([2, 1, 1, 2]), 2) // [1, 3]
 */
export function symmetricEigenvalues(M: Float64Array, d: number): Float64Array {
  const a = Float64Array.from(M);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < d; i++) {
      diag += a[i * d + i] ** 2;
      for (let j = i + 1; j < d; j++) off += a[i * d + j] ** 2;
    }
    if (off <= 1e-30 * diag) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const cs = 1 / Math.sqrt(t * t + 1);
        const sn = t * cs;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = cs * akp - sn * akq;
          a[k * d + q] = sn * akp + cs * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = cs * apk - sn * aqk;
          a[q * d + k] = sn * apk + cs * aqk;
        }
      }
    }
  }
  const ev = new Float64Array(d);
  for (let i = 0; i < d; i++) ev[i] = a[i * d + i];
  return ev.sort();
}
