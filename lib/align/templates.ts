/**
 * Where each embedding model expects five face points (left eye centre, right eye centre,
 * nose tip, left mouth corner, right mouth corner, as seen in the image) in its input
 * crop, and how to take those points from 68 landmarks (iBUG 300-W numbering).
 *
 * @module
 */

import type { Point } from "./similarity.ts";

/**
 * dlib's mean face shape for landmarks 17–67 (x, y in [0, 1]), from dlib's
 * `get_face_chip_details`; the five points are the means of the eye points (36–41,
 * 42–47), the nose tip (30) and the mouth corners (48, 54).
 */
const DLIB_MEAN_5: Point[] = [
  [0.224152, 0.2119465],
  [0.75610125, 0.2119465],
  [0.490127, 0.628106],
  [0.254149, 0.780233],
  [0.726104, 0.780233],
];

/**
 * The five points in a `size`×`size` dlib face chip with dlib's `padding` (0.25 for the
 * face descriptor, as dlib's own example uses).
 *
 * @param size Chip size in pixels.
 * @param padding Padding around the mean shape, as a fraction of its size.
 * @returns The five points.
 *
 * @example
 * ```ts
 * import { dlibTemplate } from "./templates.ts";
 * console.log(dlibTemplate(150)[2]); // nose tip: [73.5127, 87.8106]
 * ```
 */
export function dlibTemplate(size = 150, padding = 0.25): Point[] {
  return DLIB_MEAN_5.map(([x, y]) => [
    ((padding + x) / (2 * padding + 1)) * size,
    ((padding + y) / (2 * padding + 1)) * size,
  ]);
}

/** The ArcFace 112×112 template (InsightFace), used by MobileFaceNet-type models. */
export const ARCFACE_112: Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/**
 * The five points from 68 landmarks: eye centres (mean of 36–41 and 42–47), nose tip (30),
 * mouth corners (48, 54). Five points (a detector's own, as YuNet gives) are returned as
 * they are.
 *
 * @param lm 68 points, or the five already.
 * @returns The five points.
 *
 * @example
 * ```ts ignore
 * const five = fivePoints(landmarks68);
 * ```
 */
export function fivePoints(lm: Point[]): Point[] {
  if (lm.length === 5) return lm;
  const mean = (from: number, to: number): Point => {
    let x = 0, y = 0;
    for (let i = from; i <= to; i++) {
      x += lm[i][0];
      y += lm[i][1];
    }
    return [x / (to - from + 1), y / (to - from + 1)];
  };
  return [mean(36, 41), mean(42, 47), lm[30], lm[48], lm[54]];
}
