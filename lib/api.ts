/**
 * The library's own small API over the pipeline's parts: faces in images to embeddings
 * ({@link embedFaces}), embeddings to a kNN similarity graph ({@link buildKnnGraph}); with
 * `clusterFolder`, `infomap` and `evaluate` it is what `mod.ts` offers first. Nothing here
 * reads `Deno.args`, prints, or exits.
 *
 * @module
 */

import type { Point } from "./align/similarity.ts";
import { fivePoints } from "./align/templates.ts";
import type { DetectorKind } from "./detect/detector.ts";
import { DLIB_RESNET, type EmbeddingModel } from "./embed/models.ts";
import type { InferenceDevice } from "./embed/onnx_runtime.ts";
import { InputError } from "./errors.ts";
import type { RgbImage } from "./image/types.ts";
import type { Matrix } from "./io/npy.ts";
import { type Links, linksFromKnn } from "./knn/links.ts";
import { l2Normalize } from "./knn/normalize.ts";
import { createKnnBackend, type KnnDevice } from "./knn/select.ts";
import { FaceEngine } from "./pipeline/face_engine.ts";
import { streamFaces } from "./pipeline/face_stream.ts";
import type { KnnBackend, KnnGraph } from "./knn/types.ts";
import { DEFAULT_K, DEFAULT_MIN_SIM } from "./defaults.ts";

/** An image for {@link embedFaces}: a path, encoded bytes (JPEG, PNG, PNM), or decoded RGB. */
export type ImageInput = string | Uint8Array | RgbImage;

/** Options of {@link embedFaces}. */
export interface EmbedFacesOptions {
  /** The embedding model. @default DLIB_RESNET */
  model?: EmbeddingModel;
  /** Execution provider of the face models. @default "native" where it loads, else "wasm" */
  device?: InferenceDevice;
  /** Where downloaded models are cached. @default modelCacheDir() */
  cacheDir?: string;
  /** Also embed each face mirrored and average the two. @default false */
  flip?: boolean;
  /** The face detector. @default "yunet" when it is in the model cache, else "ssd" */
  detector?: DetectorKind;
  /**
   * YuNet's faces aligned on the 68-point landmark network's points in its box (measured
   * better than YuNet's own five: BENCHMARKS.md). @default true
   */
  refine?: boolean;
  /** Smallest detector score kept. @default 0.7 for YuNet, 0.5 for the SSD */
  minConfidence?: number;
  /** Smallest face (shorter box side, pixels). @default 20 */
  minFaceSize?: number;
  /** The images are face crops (see `DetectOptions.crop`). @default false */
  crop?: boolean;
  /** Keep each face's aligned chip in the result. @default false */
  keepChips?: boolean;
  /** Called after each image with the count done. */
  onProgress?: (done: number, total: number) => void;
  /** Stops the work between images. */
  signal?: AbortSignal;
}

/** A face found by {@link embedFaces}. */
export interface EmbeddedFace {
  /** Index of its image in the input list. */
  image: number;
  /** Box in image pixels. */
  box: { x: number; y: number; width: number; height: number };
  /** Detector score. */
  score: number;
  /** Eye centres, nose tip, mouth corners. */
  points: Point[];
  /** The landmarks: 68 from the landmark network, or the detector's five. */
  landmarks: Point[];
  /** The aligned chip, when `keepChips`. */
  chip?: RgbImage;
}

/** What {@link embedFaces} returns. */
export interface EmbeddedFaces {
  /** Every face, in image order. */
  faces: EmbeddedFace[];
  /** `faces.length × dims` unit vectors (row i is face i). */
  vectors: Float32Array;
  /** Vector length. */
  dims: number;
  /** The model used. */
  model: EmbeddingModel;
  /** Images that could not be read or decoded, by index, with the problem. */
  failed: { image: number; error: string }[];
}

/** The bytes or decoded image of an input (a file that cannot be read: an input error). */
async function toSource(input: ImageInput, index: number): Promise<Uint8Array | RgbImage> {
  if (typeof input === "string") {
    try {
      return await Deno.readFile(input);
    } catch (e) {
      throw new InputError(input, `cannot read: ${(e as Error).message}`);
    }
  }
  if (input instanceof Uint8Array) return input;
  if (input.data?.length !== input.width * input.height * 3) {
    throw new InputError(`image ${index}`, "RGB data of the wrong length");
  }
  return input;
}

/**
 * Finds every face in the images, aligns and embeds it. An image that cannot be read is
 * listed in `failed` and the others go on.
 *
 * @param images Paths, encoded bytes or decoded images.
 * @param options Model, device, thresholds, progress, cancellation.
 * @returns The faces and their unit vectors.
 * @throws {DOMException} `AbortError` when `signal` aborts.
 *
 * @example
 * ```ts ignore
 * import { embedFaces } from "./api.ts";
 * const { faces, vectors, dims } = await embedFaces(["a.jpg", "b.jpg"]);
 * console.log(faces.length, vectors.length / dims);
 * ```
 */
export async function embedFaces(
  images: ImageInput[],
  options: EmbedFacesOptions = {},
): Promise<EmbeddedFaces> {
  const model = options.model ?? DLIB_RESNET;
  options.signal?.throwIfAborted();
  // the one face loop, on this thread (decoded images cannot go to workers)
  const engine = await FaceEngine.start({
    model,
    inference: options.device,
    cacheDir: options.cacheDir,
    detector: options.detector,
    refine: options.refine,
    flip: options.flip,
    workers: 0,
    photos: images.length,
  });
  const faces: EmbeddedFace[] = [];
  const rows: Float32Array[] = [];
  const failed: EmbeddedFaces["failed"] = [];
  const sources = images.map((input, i) => ({
    name: typeof input === "string" ? input : `image ${i}`,
    read: () => toSource(input, i),
  }));
  try {
    const stream = streamFaces(engine, sources, {
      minConfidence: options.minConfidence,
      minFaceSize: options.minFaceSize,
      crop: options.crop,
      chips: true,
      signal: options.signal,
    });
    for await (const { index, faces: found, error } of stream) {
      options.signal?.throwIfAborted();
      if (found === null) failed.push({ image: index, error: `${sources[index].name}: ${error}` });
      else {
        found.faces.forEach((f, j) => {
          faces.push({
            image: index,
            box: f.box,
            score: f.score,
            points: fivePoints(f.landmarks),
            landmarks: f.landmarks,
            ...(options.keepChips ? { chip: found.chips[j] } : {}),
          });
          rows.push(found.vectors.subarray(j * model.dims, (j + 1) * model.dims));
        });
      }
      options.onProgress?.(index + 1, images.length);
    }
  } finally {
    await engine.close();
  }
  const vectors = new Float32Array(rows.length * model.dims);
  rows.forEach((r, i) => vectors.set(r, i * model.dims));
  return { faces, vectors, dims: model.dims, model, failed };
}

/** Options of {@link buildKnnGraph}. */
export interface BuildKnnGraphOptions {
  /** Vector length, when `vectors` is a flat array. */
  dims?: number;
  /** Neighbours per vector, itself included. @default 80 */
  k?: number;
  /** Links keep neighbours at cosine ≥ minSim (the seed's rule). @default 0.5 */
  minSim?: number;
  /** Where the search runs: a GPU through WebGPU, the CPU, or auto. @default "auto" */
  device?: KnnDevice;
  /** A backend to use instead of `device`. */
  backend?: KnnBackend;
  /** Receives one-line notices (a GPU fallback). @default none */
  onNotice?: (message: string) => void;
  /** Stops the search. */
  signal?: AbortSignal;
}

/** What {@link buildKnnGraph} returns. */
export interface KnnGraphResult {
  /** Each vector's k nearest neighbours by cosine, most similar first. */
  knn: KnnGraph;
  /** The links i → j with weight = cosine, by the seed's rule (input of `infomap`). */
  links: Links;
  /** The backend that ran. */
  backend: string;
}

/**
 * The k-nearest-neighbour graph of vectors by cosine similarity (they are L2-normalised
 * first), on a GPU where there is one, and the links the seed's rule keeps.
 *
 * @param vectors A matrix, or a flat `rows × dims` array with `options.dims`.
 * @param options k, min_sim, device, cancellation.
 * @returns The kNN lists and the links.
 * @throws {InputError} For a shape that does not fit or non-finite values.
 *
 * @example
 * ```ts
 * import { buildKnnGraph } from "./api.ts";
 * const v = new Float32Array([1, 0, 0.99, 0.1, 0, 1, 0.1, 0.99]);
 * const { links } = await buildKnnGraph(v, { dims: 2, k: 2, device: "cpu" });
 * console.log(links.source.length); // 4
 * ```
 */
export async function buildKnnGraph(
  vectors: Float32Array | Matrix,
  options: BuildKnnGraphOptions = {},
): Promise<KnnGraphResult> {
  let m: Matrix;
  if (vectors instanceof Float32Array) {
    const dims = options.dims;
    if (!dims || dims < 1 || vectors.length % dims !== 0) {
      throw new InputError("vectors", `length ${vectors.length} is not a multiple of dims ${dims}`);
    }
    m = { rows: vectors.length / dims, cols: dims, data: vectors };
  } else m = vectors;
  const k = options.k ?? DEFAULT_K, minSim = options.minSim ?? DEFAULT_MIN_SIM;
  const backend = options.backend ??
    await createKnnBackend(options.device ?? "auto", { onNotice: options.onNotice ?? (() => {}) });
  const knn = await backend.search(l2Normalize(m, "vectors"), k, {
    signal: options.signal,
    minSim,
  });
  return { knn, links: linksFromKnn(knn, minSim), backend: backend.name };
}
