/**
 * Helpers for kNN tests: random data and a brute-force reference in float64.
 *
 * @module
 */

import type { Matrix } from "../lib/io/npy.ts";
import { l2Normalize } from "../lib/knn/normalize.ts";
import type { KnnGraph } from "../lib/knn/types.ts";
import { Prng } from "../lib/infomap/prng.ts";
import { assert } from "./shared.ts";

/**
 * Random L2-normalised rows with some duplicated rows.
 *
 * @param n Rows.
 * @param d Dimension.
 * @param seed PRNG seed.
 * @param duplicates How many rows copy an earlier row.
 * @returns The matrix.
 */
export function randomRows(n: number, d: number, seed: number, duplicates = 0): Matrix {
  const rng = new Prng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) data[i] = rng.next() - 0.5;
  for (let t = 0; t < duplicates && n > 1; t++) {
    const dst = 1 + (rng.nextUint32() % (n - 1)), src = rng.nextUint32() % dst;
    data.copyWithin(dst * d, src * d, (src + 1) * d);
  }
  return l2Normalize({ rows: n, cols: d, data }, "random");
}

/**
 * Exact top-k in float64 by brute force.
 *
 * @param m Rows.
 * @param k Neighbours.
 * @returns Sorted similarities per row (index order is not compared, ties make it ambiguous).
 */
export function bruteForce(m: Matrix, k: number): Float64Array[] {
  const { rows: n, cols: d, data } = m;
  const out: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const s = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let x = 0; x < d; x++) acc += data[i * d + x] * data[j * d + x];
      s[j] = acc;
    }
    s.sort((a, b) => b - a);
    out.push(s.slice(0, Math.min(k, n)));
  }
  return out;
}

/**
 * Checks that `g` holds, per row, the exact top-k similarities (within `tol`), that each
 * index's similarity is right, and that indices are distinct and −1 only past n.
 *
 * @param g Result to check.
 * @param m The rows.
 * @param k Neighbours.
 * @param tol Similarity tolerance.
 */
export function assertExactKnn(g: KnnGraph, m: Matrix, k: number, tol = 1e-5): void {
  const ref = bruteForce(m, k);
  const { cols: d, data } = m;
  for (let i = 0; i < m.rows; i++) {
    const seen = new Set<number>();
    for (let t = 0; t < k; t++) {
      const j = g.indices[i * k + t], s = g.similarities[i * k + t];
      if (t >= m.rows) {
        assert(j === -1, `row ${i} slot ${t}: expected -1 past n, got ${j}`);
        continue;
      }
      assert(j >= 0 && j < m.rows && !seen.has(j), `row ${i} slot ${t}: bad index ${j}`);
      seen.add(j);
      let acc = 0;
      for (let x = 0; x < d; x++) acc += data[i * d + x] * data[j * d + x];
      assert(Math.abs(acc - s) <= tol, `row ${i} slot ${t}: sim ${s} but dot is ${acc}`);
      assert(Math.abs(ref[i][t] - s) <= tol, `row ${i} slot ${t}: sim ${s}, exact ${ref[i][t]}`);
      if (t > 0) assert(g.similarities[i * k + t - 1] >= s, `row ${i}: not decreasing at ${t}`);
    }
  }
}
