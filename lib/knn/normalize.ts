/**
 * Checking and L2-normalising feature rows.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import type { Matrix } from "../io/npy.ts";

/**
 * Returns a copy of `m` with every row scaled to unit L2 norm.
 *
 * @param m The features, one row per item.
 * @param name The input's name for error messages.
 * @returns The normalised matrix.
 * @throws {InputError} On a NaN or infinite value, or an all-zero row.
 *
 * @example
 * ```ts
 * import { l2Normalize } from "./normalize.ts";
 * const m = l2Normalize({ rows: 1, cols: 2, data: new Float32Array([3, 4]) }, "x");
 * console.log(m.data); // Float32Array [0.6, 0.8]
 * ```
 */
export function l2Normalize(m: Matrix, name: string): Matrix {
  const { rows, cols, data } = m;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    for (let c = 0; c < cols; c++) {
      const v = data[o + c];
      if (!Number.isFinite(v)) {
        throw new InputError(name, `row ${r} column ${c} is ${v} (features must be finite)`);
      }
      s += v * v;
    }
    if (s === 0) throw new InputError(name, `row ${r} is all zeros and has no direction`);
    const inv = 1 / Math.sqrt(s);
    for (let c = 0; c < cols; c++) out[o + c] = data[o + c] * inv;
  }
  return { rows, cols, data: out };
}
