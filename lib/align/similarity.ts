/**
 * The least-squares similarity transform (rotation, uniform scale, translation) between two
 * point sets: Umeyama's closed form in 2-D.
 *
 * @module
 */

import type { Affine } from "../image/transform.ts";

/** A 2-D point. */
export type Point = [number, number];

/**
 * The similarity transform T minimising Σ |T(src_i) − dst_i|², as an affine map
 * `[a, b, c, d, e, f]` with a = s·cosθ, b = −s·sinθ, d = s·sinθ, e = s·cosθ.
 *
 * @param src Source points.
 * @param dst Destination points (same count, at least 2).
 * @returns The map from source to destination coordinates.
 * @throws {RangeError} With fewer than 2 points or all source points equal.
 *
 * @example
 * ```ts
 * import { similarityTransform } from "./similarity.ts";
 * const m = similarityTransform([[0, 0], [1, 0]], [[1, 1], [1, 3]]);
 * console.log(m.map((v) => Math.round(v * 1e9) / 1e9)); // [0, -2, 1, 2, 0, 1]
 * ```
 */
export function similarityTransform(src: Point[], dst: Point[]): Affine {
  const n = src.length;
  if (n < 2 || dst.length !== n) throw new RangeError("need at least 2 point pairs");
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i][0];
    sy += src[i][1];
    dx += dst[i][0];
    dy += dst[i][1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  // with centred points, the optimal rotation·scale is (Σ dot, Σ cross) / Σ |src|²
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const ax = src[i][0] - sx, ay = src[i][1] - sy;
    const bx = dst[i][0] - dx, by = dst[i][1] - dy;
    dot += ax * bx + ay * by;
    cross += ax * by - ay * bx;
    norm += ax * ax + ay * ay;
  }
  if (norm === 0) throw new RangeError("source points are all equal");
  const a = dot / norm, b = cross / norm; // s·cosθ, s·sinθ
  return [a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)];
}

/**
 * Applies an affine map to a point.
 *
 * @param m The map.
 * @param p The point.
 * @returns The mapped point.
 *
 * @example
 * ```ts
 * import { applyAffine } from "./similarity.ts";
 * console.log(applyAffine([2, 0, 1, 0, 2, 1], [1, 1])); // [3, 3]
 * ```
 */
export function applyAffine(m: Affine, p: Point): Point {
  return [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]];
}
