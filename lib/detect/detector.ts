/**
 * Finding faces and their 68 landmarks: face-api's SSD MobileNet v1 detector and 68-point
 * landmark network, converted to ONNX (`models/`), run through onnxruntime-web.
 *
 * @module
 */

import type { Point } from "../align/similarity.ts";
import { type InferenceDevice, loadOnnxModel, type OnnxModel } from "../embed/onnx_runtime.ts";
import { resizeBilinear, roundPixel } from "../image/transform.ts";
import type { RgbImage } from "../image/types.ts";
import { loadModelFile } from "../models.ts";
import { nonMaxSuppression } from "./nms.ts";

/** A face found in an image. */
export interface DetectedFace {
  /** Box in image pixels. */
  box: { x: number; y: number; width: number; height: number };
  /** Detector confidence in (0, 1). */
  score: number;
  /** 68 landmarks (iBUG 300-W order) in image pixels. */
  landmarks: Point[];
}

/** Options of {@link FaceDetector.detect}. */
export interface DetectOptions {
  /** Smallest detector score kept. @default 0.5 */
  minConfidence?: number;
  /** At most this many faces per image. @default 100 */
  maxFaces?: number;
  /** Faces whose box is smaller than this many pixels (its shorter side) are dropped. @default 20 */
  minFaceSize?: number;
  /** Overlap (IoU) above which the weaker of two boxes is dropped. @default 0.5 */
  maxOverlap?: number;
}

const SSD = 512;
const LM = 112;

/** Planar float CHW from interleaved RGB bytes, written at `offset`. */
function toChw(img: RgbImage, out: Float32Array, offset: number): void {
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    out[offset + p] = img.data[p * 3];
    out[offset + n + p] = img.data[p * 3 + 1];
    out[offset + 2 * n + p] = img.data[p * 3 + 2];
  }
}

/**
 * The detector and the landmark network.
 *
 * @example
 * ```ts ignore
 * import { FaceDetector } from "./detector.ts";
 * const det = await FaceDetector.load();
 * const faces = await det.detect(image);
 * console.log(faces.map((f) => f.score));
 * ```
 */
export class FaceDetector {
  #ssd: OnnxModel;
  #landmarks: OnnxModel;

  private constructor(ssd: OnnxModel, landmarks: OnnxModel) {
    this.#ssd = ssd;
    this.#landmarks = landmarks;
  }

  /**
   * Loads both models from `models/`.
   *
   * @param device Execution provider. @default "wasm"
   * @returns The detector.
   */
  static async load(device: InferenceDevice = "wasm"): Promise<FaceDetector> {
    const [ssd, lm] = await Promise.all([
      loadModelFile("ssd_mobilenetv1.onnx").then((b) => loadOnnxModel(b, "image", device)),
      loadModelFile("face_landmark_68.onnx").then((b) => loadOnnxModel(b, "image", device)),
    ]);
    return new FaceDetector(ssd, lm);
  }

  /**
   * Finds the faces in an image, best first, with their landmarks.
   *
   * @param img The image (upright RGB).
   * @param options Thresholds.
   * @returns The faces.
   */
  async detect(img: RgbImage, options: DetectOptions = {}): Promise<DetectedFace[]> {
    let faces = await this.#boxes(img, 0, options);
    if (faces.length === 0) {
      // The SSD misses faces that fill the frame (portraits, tight crops): look again with
      // a black border of three quarters of the image's size, where such faces are
      // of a size it knows.
      faces = await this.#boxes(img, Math.round(0.75 * Math.max(img.width, img.height)), options);
    }
    if (faces.length > 0) await this.#addLandmarks(img, faces);
    return faces;
  }

  /** The SSD's boxes for `img` framed by `border` black pixels on every side, in image pixels. */
  async #boxes(img: RgbImage, border: number, options: DetectOptions): Promise<DetectedFace[]> {
    const minConfidence = options.minConfidence ?? 0.5;
    const fullW = img.width + 2 * border, fullH = img.height + 2 * border;
    const scale = SSD / Math.max(fullW, fullH);
    const w = Math.max(1, Math.round(img.width * scale));
    const h = Math.max(1, Math.round(img.height * scale));
    const small = resizeBilinear(img, w, h);
    // letterbox: the image at the top left after the border, zeros elsewhere (as face-api)
    const padded: RgbImage = { width: SSD, height: SSD, data: new Uint8Array(SSD * SSD * 3) };
    const off = Math.round(border * scale);
    for (let y = 0; y < h && y + off < SSD; y++) {
      const row = small.data.subarray(y * w * 3, (y * w + Math.min(w, SSD - off)) * 3);
      padded.data.set(row, ((y + off) * SSD + off) * 3);
    }
    const input = new Float32Array(3 * SSD * SSD);
    toChw(padded, input, 0);
    const out = await this.#ssd.run(input, [1, 3, SSD, SSD]);
    const boxes = out.boxes.data, scores = out.scores.data;
    const keep = nonMaxSuppression(
      boxes,
      scores,
      options.maxFaces ?? 100,
      options.maxOverlap ?? 0.5,
      minConfidence,
    );
    const minSize = options.minFaceSize ?? 20;
    const faces: DetectedFace[] = [];
    const toPx = SSD / scale, shift = off / scale;
    for (const i of keep) {
      const y0 = Math.max(0, boxes[i * 4] * toPx - shift);
      const x0 = Math.max(0, boxes[i * 4 + 1] * toPx - shift);
      const y1 = Math.min(img.height, boxes[i * 4 + 2] * toPx - shift);
      const x1 = Math.min(img.width, boxes[i * 4 + 3] * toPx - shift);
      if (Math.min(x1 - x0, y1 - y0) < minSize) continue;
      faces.push({
        box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
        score: scores[i],
        landmarks: [],
      });
    }
    return faces;
  }

  /** Crops each box, pads it to a square with black (as face-api does), runs the landmark net. */
  async #addLandmarks(img: RgbImage, faces: DetectedFace[]): Promise<void> {
    const input = new Float32Array(faces.length * 3 * LM * LM);
    const frames: { ox: number; oy: number; side: number }[] = [];
    faces.forEach((f, k) => {
      const { x, y, width, height } = f.box;
      const side = Math.max(width, height);
      const ox = x + width / 2 - side / 2, oy = y + height / 2 - side / 2;
      frames.push({ ox, oy, side });
      const s = side / LM;
      const chip: RgbImage = { width: LM, height: LM, data: new Uint8Array(LM * LM * 3) };
      for (let cy = 0; cy < LM; cy++) {
        for (let cx = 0; cx < LM; cx++) {
          // pixel centre of the chip in image coordinates
          const sx = ox + (cx + 0.5) * s - 0.5, sy = oy + (cy + 0.5) * s - 0.5;
          if (sx < x - 0.5 || sx > x + width - 0.5 || sy < y - 0.5 || sy > y + height - 0.5) {
            continue;
          }
          const fx = Math.min(Math.max(sx, 0), img.width - 1),
            fy = Math.min(Math.max(sy, 0), img.height - 1);
          const x0 = Math.floor(fx), y0 = Math.floor(fy);
          const x1 = Math.min(x0 + 1, img.width - 1), y1 = Math.min(y0 + 1, img.height - 1);
          const ax = fx - x0, ay = fy - y0, o = (cy * LM + cx) * 3;
          for (let c = 0; c < 3; c++) {
            const p = (yy: number, xx: number) => img.data[(yy * img.width + xx) * 3 + c];
            chip.data[o + c] = roundPixel(
              (1 - ay) * ((1 - ax) * p(y0, x0) + ax * p(y0, x1)) +
                ay * ((1 - ax) * p(y1, x0) + ax * p(y1, x1)),
            );
          }
        }
      }
      toChw(chip, input, k * 3 * LM * LM);
    });
    const out = await this.#landmarks.run(input, [faces.length, 3, LM, LM]);
    const lm = out.landmarks.data;
    faces.forEach((f, k) => {
      const { ox, oy, side } = frames[k];
      for (let p = 0; p < 68; p++) {
        f.landmarks.push([ox + lm[k * 136 + 2 * p] * side, oy + lm[k * 136 + 2 * p + 1] * side]);
      }
    });
  }

  /** Frees the sessions. */
  async release(): Promise<void> {
    await this.#ssd.release();
    await this.#landmarks.release();
  }
}
