/**
 * The seed's rule that turns k-nearest-neighbour lists into weighted links.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import type { KnnGraph } from "./types.ts";

/** Directed links `source → target` with weights, as typed arrays. */
export interface Links {
  /** Source rows. */
  source: Int32Array;
  /** Target rows. */
  target: Int32Array;
  /** Similarities. */
  weight: Float32Array;
}

/**
 * For each row i, walks its neighbours by decreasing similarity, skips i, and links
 * i → j with weight = similarity while similarity ≥ `minSim`, stopping at the first below.
 *
 * @param knn The neighbour lists.
 * @param minSim The similarity threshold, in [-1, 1].
 * @returns The links, ordered by source then decreasing similarity.
 * @throws {InputError} If `minSim` is outside [-1, 1].
 *
 * @example
 * ```ts
 * import { linksFromKnn } from "./links.ts";
 * const l = linksFromKnn({
 *   n: 2, k: 2,
 *   indices: new Int32Array([0, 1, 1, 0]),
 *   similarities: new Float32Array([1, 0.7, 1, 0.7]),
 * }, 0.5);
 * console.log(l.source, l.target); // Int32Array [0, 1] Int32Array [1, 0]
 * ```
 */
export function linksFromKnn(knn: KnnGraph, minSim: number): Links {
  if (!(minSim >= -1 && minSim <= 1)) {
    throw new InputError("min_sim", `must lie in [-1, 1], got ${minSim}`);
  }
  const { n, k, indices, similarities } = knn;
  let m = 0;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = indices[i * k + t];
      if (j < 0 || similarities[i * k + t] < minSim) break;
      if (j !== i) m++;
    }
  }
  const source = new Int32Array(m), target = new Int32Array(m), weight = new Float32Array(m);
  let e = 0;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = indices[i * k + t], s = similarities[i * k + t];
      if (j < 0 || s < minSim) break;
      if (j === i) continue;
      source[e] = i;
      target[e] = j;
      weight[e++] = s;
    }
  }
  return { source, target, weight };
}
