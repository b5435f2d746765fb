/**
 * What happens to one photo: decode, detect, align, embed, with seconds per stage. The same
 * code runs on the calling thread and in the face workers (`face_pool.ts`).
 *
 * @module
 */

import { ARCFACE_112 } from "../align/templates.ts";
import type { DetectedFace, FaceDetector } from "../detect/detector.ts";
import type { FaceEmbedder } from "../embed/embedder.ts";
import { decodeImage } from "../image/decode.ts";
import type { RgbImage } from "../image/types.ts";

/** Settings of {@link photoFaces}. */
export interface PhotoFacesOptions {
  /** Images with more pixels are refused before decoding. */
  maxPixels?: number;
  /** Smallest detector score kept. */
  minConfidence?: number;
  /** Smallest face (shorter box side, pixels). */
  minFaceSize?: number;
  /** YuNet's longest input side. */
  maxSide?: number;
  /**
   * The photo is a face crop: detect with a margin around it and, when no face is found,
   * take the whole picture as a centred face. @default false
   */
  crop?: boolean;
  /** Embed the faces (false: the caller embeds the chips, in batches). @default true */
  embed?: boolean;
  /** Return the aligned chips. @default false */
  chips?: boolean;
}

/** What {@link photoFaces} found in one photo. */
export interface PhotoFaces {
  /** Decoded (upright) width. */
  width: number;
  /** Decoded height. */
  height: number;
  /** The faces. */
  faces: DetectedFace[];
  /** Their unit vectors (empty when not embedded). */
  vectors: Float32Array;
  /** Their embeddings' lengths before normalisation (empty when not embedded). */
  norms: Float32Array;
  /** Their aligned chips (when asked for). */
  chips: RgbImage[];
  /** Seconds per stage. */
  seconds: { decode: number; detect: number; align: number; embed: number };
}

/**
 * Decodes a photo, finds its faces, aligns and embeds them.
 *
 * @param source The file's bytes, or the photo already decoded.
 * @param name The name used in errors.
 * @param detector The face detector.
 * @param embedder The embedder.
 * @param options Limits, cache hit, what to return.
 * @returns The faces, vectors, chips and timings.
 * @throws {InputError} When the image cannot be decoded (naming it).
 *
 * @example
 * ```ts ignore
 * const r = await photoFaces(await Deno.readFile("a.jpg"), "a.jpg", detector, embedder);
 * console.log(r.faces.length, r.seconds);
 * ```
 */
export async function photoFaces(
  source: Uint8Array | RgbImage,
  name: string,
  detector: FaceDetector,
  embedder: FaceEmbedder,
  options: PhotoFacesOptions = {},
): Promise<PhotoFaces> {
  const seconds = { decode: 0, detect: 0, align: 0, embed: 0 };
  let t = performance.now();
  const lap = () => {
    const now = performance.now(), s = (now - t) / 1000;
    t = now;
    return s;
  };
  const embed = options.embed ?? true;
  const img = source instanceof Uint8Array
    ? await decodeImage(source, name, { maxPixels: options.maxPixels })
    : source;
  seconds.decode = lap();
  let faces = await detector.detect(img, {
    minConfidence: options.minConfidence,
    minFaceSize: options.minFaceSize,
    maxSide: options.maxSide,
    crop: options.crop,
  });
  if (options.crop && faces.length === 0) faces = [wholePictureFace(img)];
  seconds.detect = lap();
  const chips = faces.length ? faces.map((f) => embedder.chip(img, f.landmarks)) : [];
  seconds.align = lap();
  const { vectors, norms } = embed && chips.length
    ? await embedder.embedWithNorms(chips)
    : { vectors: new Float32Array(0), norms: new Float32Array(0) };
  seconds.embed = lap();
  return {
    width: img.width,
    height: img.height,
    faces,
    vectors,
    norms,
    chips: options.chips ? chips : [],
    seconds,
  };
}

/**
 * A face crop in which the detector found no face, taken as one centred face: the five
 * points of the ArcFace template laid over the picture (scaled by its longer side, centred),
 * so that any model's alignment frames the whole picture as a face.
 *
 * @param img The picture.
 * @returns The face, `source: "whole"`, score 0.
 *
 * @example
 * ```ts
 * import { wholePictureFace } from "./photo_faces.ts";
 * const f = wholePictureFace({ width: 112, height: 112, data: new Uint8Array(112 * 112 * 3) });
 * console.log(f.landmarks[0]); // [38.2946, 51.6963]
 * ```
 */
export function wholePictureFace(img: { width: number; height: number }): DetectedFace {
  const s = Math.max(img.width, img.height) / 112;
  return {
    box: { x: 0, y: 0, width: img.width, height: img.height },
    score: 0,
    landmarks: ARCFACE_112.map(([x, y]) => [
      (x - 56) * s + img.width / 2,
      (y - 56) * s + img.height / 2,
    ]),
    source: "whole",
  };
}
