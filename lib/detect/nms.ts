/**
 * Greedy non-maximum suppression over boxes (ymin, xmin, ymax, xmax), as face-api's SSD
 * post-processing does it.
 *
 * @module
 */

/**
 * Intersection over union of boxes `i` and `j` of a flat [ymin, xmin, ymax, xmax] array.
 *
 * @param b Boxes, 4 numbers each.
 * @param i First box.
 * @param j Second box.
 * @returns IoU in [0, 1].
 *
 * @example
 * ```ts
 * import { iou } from "./nms.ts";
 * console.log(iou(new Float32Array([0, 0, 2, 2, 1, 1, 3, 3]), 0, 1)); // 0.14285714285714285
 * ```
 */
export function iou(b: ArrayLike<number>, i: number, j: number): number {
  const yi0 = Math.min(b[i * 4], b[i * 4 + 2]), xi0 = Math.min(b[i * 4 + 1], b[i * 4 + 3]);
  const yi1 = Math.max(b[i * 4], b[i * 4 + 2]), xi1 = Math.max(b[i * 4 + 1], b[i * 4 + 3]);
  const yj0 = Math.min(b[j * 4], b[j * 4 + 2]), xj0 = Math.min(b[j * 4 + 1], b[j * 4 + 3]);
  const yj1 = Math.max(b[j * 4], b[j * 4 + 2]), xj1 = Math.max(b[j * 4 + 1], b[j * 4 + 3]);
  const ai = (yi1 - yi0) * (xi1 - xi0), aj = (yj1 - yj0) * (xj1 - xj0);
  if (ai <= 0 || aj <= 0) return 0;
  const inter = Math.max(Math.min(yi1, yj1) - Math.max(yi0, yj0), 0) *
    Math.max(Math.min(xi1, xj1) - Math.max(xi0, xj0), 0);
  return inter / (ai + aj - inter);
}

/**
 * Keeps the highest-scoring boxes above `minScore`, dropping any box that overlaps a kept
 * one by more than `maxIou`.
 *
 * @param boxes Boxes, 4 numbers each.
 * @param scores A score per box.
 * @param maxResults At most this many boxes.
 * @param maxIou Overlap above which the lower-scoring box is dropped.
 * @param minScore Boxes scoring at or below this are ignored.
 * @returns Indices of the kept boxes, best first.
 *
 * @example
 * ```ts
 * import { nonMaxSuppression } from "./nms.ts";
 * const b = new Float32Array([0, 0, 1, 1, 0, 0, 1, 0.9, 2, 2, 3, 3]);
 * console.log(nonMaxSuppression(b, [0.9, 0.8, 0.7], 10, 0.5, 0.5)); // [0, 2]
 * ```
 */
export function nonMaxSuppression(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  maxResults: number,
  maxIou: number,
  minScore: number,
): number[] {
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] > minScore) candidates.push(i);
  candidates.sort((a, b) => scores[b] - scores[a] || a - b);
  const kept: number[] = [];
  for (const c of candidates) {
    if (kept.length >= maxResults) break;
    if (kept.every((k) => iou(boxes, c, k) <= maxIou)) kept.push(c);
  }
  return kept;
}
