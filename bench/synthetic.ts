/**
 * Synthetic face-like features for benchmarks: identities with heavy-tailed (log-normal)
 * sizes, same-person cosine ≈ 0.6, other-person ≈ 0; and synthetic face landmarks.
 *
 * @module
 */

import type { Point } from "../lib/align/similarity.ts";
import type { Matrix } from "../lib/io/npy.ts";
import { Prng } from "../lib/infomap/prng.ts";

function gauss(rng: Prng): number {
  const u = Math.max(rng.next(), 1e-12), v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function unit(rng: Prng, d: number, out: Float64Array): void {
  let s = 0;
  for (let x = 0; x < d; x++) {
    out[x] = gauss(rng);
    s += out[x] * out[x];
  }
  const inv = 1 / Math.sqrt(s);
  for (let x = 0; x < d; x++) out[x] *= inv;
}

/**
 * Makes `n` rows of dimension `d` and their identity labels.
 *
 * @param n Rows.
 * @param d Dimension.
 * @param seed PRNG seed.
 * @returns Features and labels.
 *
 * @example
 * ```ts
 * import { syntheticFaces } from "./synthetic.ts";
 * const { features, labels } = syntheticFaces(1000, 64, 1);
 * console.log(features.rows, labels.length); // 1000 1000
 * ```
 */
export function syntheticFaces(
  n: number,
  d: number,
  seed: number,
): { features: Matrix; labels: Int32Array } {
  const rng = new Prng(seed);
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  const c = new Float64Array(d), u = new Float64Array(d);
  const a = Math.sqrt(0.6), b = Math.sqrt(0.4);
  let row = 0, id = 0;
  while (row < n) {
    const size = Math.min(
      n - row,
      Math.max(1, Math.min(500, Math.round(Math.exp(4 + 0.8 * gauss(rng))))),
    );
    unit(rng, d, c);
    for (let s = 0; s < size; s++, row++) {
      unit(rng, d, u);
      for (let x = 0; x < d; x++) data[row * d + x] = a * c[x] + b * u[x];
      labels[row] = id;
    }
    id++;
  }
  return { features: { rows: n, cols: d, data }, labels };
}

/**
 * 68 landmarks of a face centred at (cx, cy), scaled by `s` and turned by `r` radians: only
 * what `fivePoints` reads is placed (eye corners, nose tip, mouth corners); the rest sit at
 * the centre.
 *
 * @param cx Centre x in pixels.
 * @param cy Centre y in pixels.
 * @param s Scale (1: eyes 40 pixels apart).
 * @param r Rotation in radians.
 * @returns The 68 points.
 *
 * @example
 * ```ts ignore
 * const lm = syntheticLandmarks(100, 80, 1, 0.1);
 * ```
 */
export function syntheticLandmarks(cx: number, cy: number, s: number, r: number): Point[] {
  const at = (x: number, y: number): Point => [
    cx + s * (x * Math.cos(r) - y * Math.sin(r)),
    cy + s * (x * Math.sin(r) + y * Math.cos(r)),
  ];
  const lm = Array.from({ length: 68 }, () => at(0, 0));
  for (let k = 36; k <= 41; k++) lm[k] = at(-20, -15);
  for (let k = 42; k <= 47; k++) lm[k] = at(20, -14);
  lm[30] = at(0, 8);
  lm[48] = at(-15, 27);
  lm[54] = at(16, 28);
  return lm;
}
