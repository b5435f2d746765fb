/**
 * Finding faces and their landmarks: YuNet (downloaded; box, score and five points in one
 * pass at a size chosen from the photo), optionally refined by face-api's 68-point landmark
 * network, or face-api's SSD MobileNet v1 with the 68-point network (shipped, the offline
 * fallback), all through onnxruntime.
 *
 * @module
 */

import type { Point } from "../align/similarity.ts";
import { fetchRemoteFile, isCached, modelCacheDir } from "../embed/download.ts";
import { type InferenceDevice, loadOnnxModel, type OnnxModel } from "../embed/onnx_runtime.ts";
import { resizeBilinear, roundPixel } from "../image/transform.ts";
import type { RgbImage } from "../image/types.ts";
import { loadModelFile } from "../models.ts";
import { nonMaxSuppression } from "./nms.ts";
import { decodeYunet, toPhoto, YUNET, YUNET_MIN_SCORE, yunetInput } from "./yunet.ts";
import { DEFAULT_MIN_FACE_SIZE } from "../defaults.ts";

/** A face found in an image. */
export interface DetectedFace {
  /** Box in image pixels. */
  box: { x: number; y: number; width: number; height: number };
  /** Detector confidence in (0, 1) (0 for a whole picture taken as a face). */
  score: number;
  /**
   * Landmarks in image pixels: 68 (iBUG 300-W order) from the landmark network, or the
   * detector's five (eye centres, nose tip, mouth corners, as seen left to right).
   */
  landmarks: Point[];
  /**
   * How the face was found: by the detector, or (crop mode) the whole picture taken as a
   * centred face because the detector found none. @default "detected"
   */
  source?: "detected" | "whole";
}

/** Which detector finds the boxes. */
export type DetectorKind = "yunet" | "ssd";

/** Options of {@link FaceDetector.load}. */
export interface DetectorLoadOptions {
  /** Execution provider. @default "wasm" */
  device?: InferenceDevice;
  /** The detector. @default "yunet" */
  detector?: DetectorKind;
  /**
   * YuNet only: locate the 68 landmarks with face-api's network in YuNet's box and align on
   * those instead of YuNet's own five points. @default true
   */
  refine?: boolean;
  /** Where downloaded models live (YuNet is fetched there when missing). @default modelCacheDir() */
  cacheDir?: string;
}

/** Options of {@link FaceDetector.detect}. */
export interface DetectOptions {
  /** Smallest detector score kept. @default 0.7 for YuNet, 0.5 for the SSD */
  minConfidence?: number;
  /** At most this many faces per image. @default 100 */
  maxFaces?: number;
  /** Faces whose box is smaller than this many pixels (its shorter side) are dropped. @default 20 */
  minFaceSize?: number;
  /** Overlap (IoU) above which the weaker of two boxes is dropped. @default 0.3 (YuNet), 0.5 (SSD) */
  maxOverlap?: number;
  /** YuNet: longest side of its input; larger photos are shrunk, none enlarged. @default 640 */
  maxSide?: number;
  /**
   * The image is a face crop: look for the face with a margin around the picture (a face
   * that fills the frame is then of a size the detector knows). @default false
   */
  crop?: boolean;
}

/**
 * Whether YuNet is in the model cache (so that it is the default detector).
 *
 * @param cacheDir The model cache. @default modelCacheDir()
 * @returns True when its file is there with the right sha256.
 *
 * @example
 * ```ts ignore
 * console.log(await isYunetAvailable());
 * ```
 */
export async function isYunetAvailable(cacheDir: string = modelCacheDir()): Promise<boolean> {
  return await isCached(YUNET.remote[0], cacheDir);
}

/**
 * The default detector: YuNet when it is in the cache, else face-api's SSD (shipped) with a
 * one-line notice telling how to fetch YuNet.
 *
 * @param cacheDir The model cache.
 * @param notice Receives the notice.
 * @returns The detector kind.
 *
 * @example
 * ```ts ignore
 * const kind = await defaultDetector(modelCacheDir(), console.error);
 * ```
 */
export async function defaultDetector(
  cacheDir: string,
  notice: (message: string) => void,
): Promise<DetectorKind> {
  if (await isYunetAvailable(cacheDir)) return "yunet";
  notice(
    "detector: face-api SSD (shipped); for faster, cleaner faces fetch YuNet once: deno run -A cli.ts models fetch yunet",
  );
  return "ssd";
}

/**
 * A key naming a detector and its settings, for caching faces.
 *
 * @param kind The detector.
 * @param refine YuNet's boxes refined by the 68-point network.
 * @param options Detection settings.
 * @returns E.g. `yunet-104ee26c71d5-p5-c0.7-s20-m640`.
 *
 * @example
 * ```ts
 * import { detectorKey } from "./detector.ts";
 * console.log(detectorKey("ssd", false, {})); // "ssd68-v1-c0.5-s20"
 * ```
 */
export function detectorKey(kind: DetectorKind, refine: boolean, options: DetectOptions): string {
  const size = options.minFaceSize ?? DEFAULT_MIN_FACE_SIZE;
  const crop = options.crop ? "-crop" : "";
  if (kind === "ssd") return `ssd68-v1-c${options.minConfidence ?? 0.5}-s${size}${crop}`;
  return `yunet-${YUNET.sha256.slice(0, 12)}-p${refine ? 68 : 5}-c${
    options.minConfidence ?? YUNET_MIN_SCORE
  }-s${size}-m${options.maxSide ?? 640}${crop}`;
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
 * The black border of crop mode: a quarter of the picture's longer side on every side (all 400
 * orl_att and 40 bbt_faceapi crops found with a quarter, as with a half; 131 vs 120 photos/s).
 */
function cropBorder(img: RgbImage): number {
  return Math.round(0.25 * Math.max(img.width, img.height));
}

/**
 * The detector (YuNet or the SSD) and, where used, the 68-point landmark network.
 *
 * @example
 * ```ts ignore
 * import { FaceDetector } from "./detector.ts";
 * const det = await FaceDetector.load({ detector: "yunet" });
 * const faces = await det.detect(image);
 * console.log(faces.map((f) => f.score));
 * ```
 */
export class FaceDetector {
  /** The detector that finds the boxes. */
  readonly kind: DetectorKind;
  /** Whether YuNet's faces are refined by the 68-point network. */
  readonly refine: boolean;
  #boxModel: OnnxModel;
  #landmarks: OnnxModel | null;

  private constructor(
    kind: DetectorKind,
    refine: boolean,
    boxModel: OnnxModel,
    landmarks: OnnxModel | null,
  ) {
    this.kind = kind;
    this.refine = refine;
    this.#boxModel = boxModel;
    this.#landmarks = landmarks;
  }

  /**
   * Loads the models: YuNet from the model cache (fetched when missing, sha256 checked), the
   * SSD and the landmark network from `models/`.
   *
   * @param options Device, detector, refinement, model cache.
   * @returns The detector.
   */
  static async load(options: DetectorLoadOptions = {}): Promise<FaceDetector> {
    const device = options.device ?? "wasm";
    const kind = options.detector ?? "yunet";
    const refine = kind === "ssd" || (options.refine ?? true);
    const boxBytes = kind === "ssd"
      ? loadModelFile("ssd_mobilenetv1.onnx")
      : fetchRemoteFile(YUNET.remote[0], options.cacheDir ?? modelCacheDir())
        .then((p) => Deno.readFile(p));
    const [box, lm] = await Promise.all([
      boxBytes.then((b) => loadOnnxModel(b, kind === "ssd" ? "image" : "input", device)),
      refine
        ? loadModelFile("face_landmark_68.onnx").then((b) => loadOnnxModel(b, "image", device))
        : null,
    ]);
    return new FaceDetector(kind, kind === "yunet" && refine, box, lm);
  }

  /**
   * Finds the faces in an image, best first, with their landmarks.
   *
   * @param img The image (upright RGB).
   * @param options Thresholds, input size, crop mode.
   * @returns The faces.
   */
  async detect(img: RgbImage, options: DetectOptions = {}): Promise<DetectedFace[]> {
    let faces: DetectedFace[];
    if (this.kind === "yunet") {
      faces = await this.#yunet(img, options.crop ? cropBorder(img) : 0, options);
    } else {
      // the SSD knows a face that fills the frame only with a wide border (three quarters)
      faces = await this.#boxes(img, options.crop ? 3 * cropBorder(img) : 0, options);
      if (faces.length === 0 && !options.crop) {
        // The SSD misses faces that fill the frame (portraits, tight crops): look again with
        // a black border of three quarters of the image's size, where such faces are
        // of a size it knows.
        faces = await this.#boxes(
          img,
          Math.round(0.75 * Math.max(img.width, img.height)),
          options,
        );
      }
    }
    if (faces.length > 0 && this.#landmarks) await this.#addLandmarks(img, faces);
    return faces;
  }

  /** YuNet's faces for `img` framed by `border` black pixels, in image pixels. */
  async #yunet(img: RgbImage, border: number, options: DetectOptions): Promise<DetectedFace[]> {
    const input = yunetInput(img, options.maxSide ?? 640, border);
    const out = await this.#boxModel.run(input.data, [1, 3, input.height, input.width]);
    const minSize = options.minFaceSize ?? DEFAULT_MIN_FACE_SIZE;
    const faces: DetectedFace[] = [];
    for (
      const f of decodeYunet(out, input.width, input.height, 0, {
        minScore: options.minConfidence ?? YUNET_MIN_SCORE,
        maxOverlap: options.maxOverlap ?? 0.3,
        maxFaces: options.maxFaces,
      })
    ) {
      const p = toPhoto(f, input, img);
      if (!p || Math.min(p.box.width, p.box.height) < minSize) continue;
      faces.push({ box: p.box, score: p.score, landmarks: this.refine ? [] : p.points });
    }
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
    const out = await this.#boxModel.run(input, [1, 3, SSD, SSD]);
    const boxes = out.boxes.data, scores = out.scores.data;
    const keep = nonMaxSuppression(
      boxes,
      scores,
      options.maxFaces ?? 100,
      options.maxOverlap ?? 0.5,
      minConfidence,
    );
    const minSize = options.minFaceSize ?? DEFAULT_MIN_FACE_SIZE;
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
    const out = await this.#landmarks!.run(input, [faces.length, 3, LM, LM]);
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
    await this.#boxModel.release();
    await this.#landmarks?.release();
  }
}
