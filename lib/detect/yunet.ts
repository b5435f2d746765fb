/**
 * YuNet (Wu, Peng, Yu 2023; ShiqiYu/libfacedetection.train, Apache-2.0): a face detector
 * that gives a box, a score and five landmarks per face in one pass over an input of any
 * size (a multiple of 32). Downloaded into the user cache like MobileFaceNet
 * (`cli.ts models fetch yunet`); not shipped. This module lays a photo out as its input
 * and decodes its outputs the way OpenCV's `FaceDetectorYN` does.
 *
 * @module
 */

import type { Point } from "../align/similarity.ts";
import type { RemoteFile } from "../embed/download.ts";
import { resizeBilinear } from "../image/transform.ts";
import type { RgbImage } from "../image/types.ts";
import { nonMaxSuppression } from "./nms.ts";

/** A downloadable face detector. */
export interface DetectorModel {
  /** Short name used on the command line. */
  name: string;
  /** Its files (one `.onnx`). */
  remote: RemoteFile[];
  /** sha256 of the `.onnx` (keys cached faces). */
  sha256: string;
  /** Provenance and licence, one line. */
  about: string;
}

/**
 * YuNet_n with a dynamic input (WIDER Face val AP 0.892 / 0.883 / 0.811 easy / medium /
 * hard as published; 75,856 parameters).
 */
export const YUNET: DetectorModel = {
  name: "yunet",
  sha256: "104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12",
  about: "YuNet_n face detector by ShiqiYu/libfacedetection.train, Apache-2.0, downloaded",
  remote: [{
    name: "yunet_n_dynamic.onnx",
    url:
      "https://raw.githubusercontent.com/ShiqiYu/libfacedetection.train/0047ac24afb1a50a0c6105001c89d1b5b805dbf1/onnx/yunet_n_dynamic.onnx",
    sha256: "104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12",
    size: 322906,
  }],
};

/** A face as YuNet reports it, in the coordinates of its input. */
export interface YunetFace {
  /** Box: left, top, width, height. */
  box: { x: number; y: number; width: number; height: number };
  /** sqrt(cls · obj), in [0, 1]. */
  score: number;
  /** Right eye, left eye, nose tip, right and left mouth corner (the subject's sides). */
  points: Point[];
}

/** How a photo was laid out as YuNet's input. */
export interface YunetInput {
  /** `3 × height × width` BGR floats 0..255 (planar). */
  data: Float32Array;
  /** Input width (a multiple of 32). */
  width: number;
  /** Input height (a multiple of 32). */
  height: number;
  /** Input pixels per photo pixel (≤ 1: a photo is never enlarged). */
  scale: number;
  /** Border added around the photo, in photo pixels (crop mode). */
  border: number;
}

const STRIDES = [8, 16, 32] as const;

/**
 * YuNet's default score threshold: on group_photos' hand-drawn faces 43/43 found with one
 * stray detection (0.6: four; 0.8: none, but a five_celebrity face lost).
 */
export const YUNET_MIN_SCORE = 0.7;

/**
 * Lays a photo out as YuNet's input: shrunk so that its longer side (border included) is at
 * most `maxSide` (never enlarged), framed by `border` black photo pixels on every side, padded
 * with black to multiples of 32, as planar BGR floats.
 *
 * @param img The photo.
 * @param maxSide Longest input side before padding.
 * @param border Black border around the photo, in photo pixels. @default 0
 * @returns The input and how it maps back to the photo.
 *
 * @example
 * ```ts
 * import { yunetInput } from "./yunet.ts";
 * const img = { width: 250, height: 250, data: new Uint8Array(250 * 250 * 3) };
 * const input = yunetInput(img, 640);
 * console.log(input.width, input.height, input.scale); // 256 256 1
 * ```
 */
export function yunetInput(img: RgbImage, maxSide: number, border = 0): YunetInput {
  const fullW = img.width + 2 * border, fullH = img.height + 2 * border;
  const scale = Math.min(1, maxSide / Math.max(fullW, fullH));
  const w = Math.max(1, Math.round(img.width * scale));
  const h = Math.max(1, Math.round(img.height * scale));
  const small = scale === 1 ? img : resizeBilinear(img, w, h);
  const off = Math.round(border * scale);
  const width = Math.ceil((w + 2 * off) / 32) * 32, height = Math.ceil((h + 2 * off) / 32) * 32;
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  const px = small.data;
  for (let y = 0; y < h; y++) {
    let s = y * w * 3, d = (y + off) * width + off;
    for (let x = 0; x < w; x++, s += 3, d++) {
      data[d] = px[s + 2]; // B
      data[plane + d] = px[s + 1]; // G
      data[2 * plane + d] = px[s]; // R
    }
  }
  return { data, width, height, scale, border: off / (scale || 1) };
}

/** Options of {@link decodeYunet}. */
export interface YunetDecodeOptions {
  /** Smallest score kept. @default 0.7 */
  minScore?: number;
  /** Overlap (IoU) above which the weaker box is dropped. @default 0.3 */
  maxOverlap?: number;
  /** At most this many faces. @default 100 */
  maxFaces?: number;
}

/**
 * Decodes YuNet's twelve outputs (`cls_s`, `obj_s`, `bbox_s`, `kps_s` for strides 8, 16, 32)
 * of one image of a batch into faces in input pixels, best first, after a score threshold
 * and non-maximum suppression: score = sqrt(clamp01(cls) · clamp01(obj)), centre =
 * ((col + b0)·s, (row + b1)·s), size = (exp(b2)·s, exp(b3)·s), landmark m =
 * ((k2m + col)·s, (k2m+1 + row)·s).
 *
 * @param out The outputs by name (batch first).
 * @param width Input width.
 * @param height Input height.
 * @param index Which image of the batch. @default 0
 * @param options Threshold, overlap, count.
 * @returns The faces.
 *
 * @example
 * ```ts ignore
 * const faces = decodeYunet(await session.run(input.data, [1, 3, input.height, input.width]), input.width, input.height);
 * ```
 */
export function decodeYunet(
  out: Record<string, { data: Float32Array }>,
  width: number,
  height: number,
  index = 0,
  options: YunetDecodeOptions = {},
): YunetFace[] {
  const minScore = options.minScore ?? YUNET_MIN_SCORE;
  const found: YunetFace[] = [];
  for (const s of STRIDES) {
    const cols = width / s, rows = height / s, cells = cols * rows;
    const cls = out[`cls_${s}`].data, obj = out[`obj_${s}`].data;
    const bbox = out[`bbox_${s}`].data, kps = out[`kps_${s}`].data;
    const base = index * cells;
    for (let i = 0; i < cells; i++) {
      const c = Math.min(1, Math.max(0, cls[base + i]));
      const o = Math.min(1, Math.max(0, obj[base + i]));
      const score = Math.sqrt(c * o);
      if (!(score >= minScore)) continue;
      const row = Math.floor(i / cols), col = i - row * cols;
      const b = (base + i) * 4, k = (base + i) * 10;
      const cx = (col + bbox[b]) * s, cy = (row + bbox[b + 1]) * s;
      const w = Math.exp(bbox[b + 2]) * s, h = Math.exp(bbox[b + 3]) * s;
      const points: Point[] = [];
      for (let m = 0; m < 5; m++) {
        points.push([(kps[k + 2 * m] + col) * s, (kps[k + 2 * m + 1] + row) * s]);
      }
      found.push({ box: { x: cx - w / 2, y: cy - h / 2, width: w, height: h }, score, points });
    }
  }
  const boxes = new Float32Array(found.length * 4);
  found.forEach((f, i) => {
    boxes.set([f.box.y, f.box.x, f.box.y + f.box.height, f.box.x + f.box.width], i * 4);
  });
  const keep = nonMaxSuppression(
    boxes,
    found.map((f) => f.score),
    options.maxFaces ?? 100,
    options.maxOverlap ?? 0.3,
    minScore - 1e-9,
  );
  return keep.map((i) => found[i]);
}

/**
 * Maps a face from YuNet's input back to photo pixels (undoing the shrink and the border),
 * with its box clipped to the photo.
 *
 * @param f The face in input pixels.
 * @param input How the input was made.
 * @param img The photo's size.
 * @returns The face in photo pixels, or null when nothing of its box lies in the photo.
 *
 * @example
 * ```ts ignore
 * const inPhoto = toPhoto(face, input, img);
 * ```
 */
export function toPhoto(
  f: YunetFace,
  input: YunetInput,
  img: { width: number; height: number },
): YunetFace | null {
  const px = (v: number) => v / input.scale - input.border;
  const x0 = Math.max(0, px(f.box.x)), y0 = Math.max(0, px(f.box.y));
  const x1 = Math.min(img.width, px(f.box.x + f.box.width));
  const y1 = Math.min(img.height, px(f.box.y + f.box.height));
  if (x1 <= x0 || y1 <= y0) return null;
  return {
    box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
    score: f.score,
    points: f.points.map(([x, y]) => [px(x), px(y)]),
  };
}
