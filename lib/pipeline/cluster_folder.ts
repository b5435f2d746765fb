/**
 * The main job as a library call: a folder of photos in, every face found, embedded and
 * clustered into people, with per-stage timings and, for a labeled folder, the metrics.
 *
 * @module
 */

import type { Point } from "../align/similarity.ts";
import { fivePoints } from "../align/templates.ts";
import { clusterFeatures } from "../cluster/cluster_features.ts";
import { FaceCache } from "../cache/face_cache.ts";
import { FaceDetector } from "../detect/detector.ts";
import { FaceEmbedder, fetchModelFiles } from "../embed/embedder.ts";
import { type InferenceDevice, nativeInferenceAvailable } from "../embed/onnx_runtime.ts";
import { DLIB_RESNET, type EmbeddingModel, modelKey } from "../embed/models.ts";
import { sha256Hex } from "../io/hash.ts";
import { FacePool } from "./face_pool.ts";
import { type PhotoFaces, photoFaces } from "./photo_faces.ts";
import { InputError } from "../errors.ts";
import type { RgbImage } from "../image/types.ts";
import type { KnnBackend } from "../knn/types.ts";
import { type ClusteringMetrics, evaluate } from "../metrics/metrics.ts";
import { scanFolder, type ScanProblem } from "../scan/scan.ts";

/** One face found in a photo. */
export interface FaceRecord {
  /** Row of this face in the embeddings. */
  id: number;
  /** Photo path relative to the input folder. */
  file: string;
  /** Box in photo pixels. */
  box: { x: number; y: number; width: number; height: number };
  /** Detector score. */
  score: number;
  /** Eye centres, nose tip, mouth corners in photo pixels. */
  points: Point[];
  /** Person (cluster) id: clusters numbered by decreasing size. */
  cluster: number;
  /** Cosine similarity to its cluster's mean direction. */
  similarity: number;
  /** The photo's label (its first folder) when this face carries it in an evaluation. */
  label: string | null;
}

/** A photo that could not be used, and why. */
export interface FailedFile {
  /** Path relative to the input folder. */
  file: string;
  /** The problem. */
  error: string;
}

/**
 * Seconds per stage. With face workers, `decode`, `detect`, `align` and `embed` are summed
 * over the workers (thread seconds); `total` is wall-clock time.
 */
export interface PipelineSeconds {
  /** Walking the folder. */
  scan: number;
  /** Reading and decoding images. */
  decode: number;
  /** Face detection and landmarks. */
  detect: number;
  /** Aligned chips (and handing them to `onChip`). */
  align: number;
  /** Embedding the chips. */
  embed: number;
  /** Nearest neighbours. */
  knn: number;
  /** The link rule. */
  links: number;
  /** Infomap. */
  infomap: number;
  /** The whole run. */
  total: number;
}

/**
 * Progress of a stage: `done` of `total` items (`total` 0: not known yet); for `faces`, the
 * detail tells the seconds spent so far in decode, detect, align and embed.
 */
export type ProgressCallback = (
  stage: string,
  done: number,
  total: number,
  detail?: string,
) => void;

/** Options of {@link clusterFolder}. */
export interface ClusterFolderOptions {
  /** The embedding model. @default DLIB_RESNET */
  model?: EmbeddingModel;
  /** Neighbours per face. @default 80 */
  k?: number;
  /** Link threshold. @default the model's `minSim` */
  minSim?: number;
  /** kNN implementation (e.g. from `createKnnBackend`). @default CPU */
  knn?: KnnBackend;
  /**
   * Execution provider of the face models (see `chooseInferenceDevice`).
   * @default "native" where onnxruntime-node loads, else "wasm"
   */
  inference?: InferenceDevice;
  /** Where downloaded models are cached. @default modelCacheDir() */
  cacheDir?: string;
  /** Images with more pixels are refused before decoding. @default 100_000_000 */
  maxPixels?: number;
  /** Smallest detector score kept. @default 0.5 */
  minConfidence?: number;
  /** Smallest face (shorter box side, pixels). @default 20 */
  minFaceSize?: number;
  /** Also embed each face's mirror image and average the two. @default false */
  flip?: boolean;
  /**
   * A folder caching faces and embeddings per photo (by its sha256, embeddings by model), so
   * that a re-run skips detection and embedding. Off unless given.
   */
  faceCache?: string;
  /**
   * Face workers (decode, detect, align, embed in parallel; WASM only).
   * @default navigator.hardwareConcurrency
   */
  workers?: number;
  /** Folders left out of the scan (the output folder). */
  exclude?: string[];
  /** Receives each face's aligned chip as it is made (to write crops without keeping them). */
  onChip?: (face: FaceRecord, chip: RgbImage) => Promise<void> | void;
  /** Progress per stage. */
  onProgress?: ProgressCallback;
  /** Stops the run. */
  signal?: AbortSignal;
}

/** What {@link clusterFolder} found. */
export interface FolderClustering {
  /** The input folder. */
  input: string;
  /** Model used. */
  model: EmbeddingModel;
  /** k, min_sim and mirrored embedding used. */
  settings: { k: number; minSim: number; flip: boolean };
  /** Photos scanned (readable images). */
  photos: string[];
  /** Every face. */
  faces: FaceRecord[];
  /** `faces.length × model.dims` unit vectors. */
  vectors: Float32Array;
  /** Number of clusters (people, plus faces alone). */
  numClusters: number;
  /** Faces that joined nobody. */
  singletons: number;
  /** Photos that failed to decode. */
  failed: FailedFile[];
  /** Photos in which no face was found. */
  withoutFaces: string[];
  /** Entries the scan skipped. */
  skipped: ScanProblem[];
  /** kNN backend used. */
  knnBackend: string;
  /** Seconds per stage. */
  seconds: PipelineSeconds;
  /** For a labeled folder: the metrics over the faces that carry a label. */
  evaluation: { faces: number; metrics: ClusteringMetrics } | null;
}

/**
 * Finds, embeds and clusters every face in a folder of photos. Nothing is written.
 *
 * @param dir The folder.
 * @param options Model, thresholds, kNN backend, callbacks.
 * @returns Faces, clusters, timings and (for labeled folders) metrics.
 * @throws {InputError} If `dir` is not a readable folder.
 *
 * @example
 * ```ts ignore
 * import { clusterFolder } from "./cluster_folder.ts";
 * const r = await clusterFolder("photos");
 * console.log(r.faces.length, r.numClusters);
 * ```
 */
export async function clusterFolder(
  dir: string,
  options: ClusterFolderOptions = {},
): Promise<FolderClustering> {
  const t0 = performance.now();
  const model = options.model ?? DLIB_RESNET;
  const k = options.k ?? 80;
  const minSim = options.minSim ?? model.minSim;
  const progress = options.onProgress ?? (() => {});
  try {
    if (!(await Deno.stat(dir)).isDirectory) throw new InputError(dir, "not a folder");
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(dir, `cannot read: ${(e as Error).message}`);
  }
  const seconds: PipelineSeconds = {
    scan: 0,
    decode: 0,
    detect: 0,
    align: 0,
    embed: 0,
    knn: 0,
    links: 0,
    infomap: 0,
    total: 0,
  };
  let lap = performance.now();
  const took = () => {
    const now = performance.now(), s = (now - lap) / 1000;
    lap = now;
    return s;
  };
  let imagesFound = 0;
  const scan = await scanFolder(dir, {
    exclude: options.exclude,
    onImage: () => progress("scan", ++imagesFound, 0),
  });
  seconds.scan = took();
  const inference = options.inference ?? ((await nativeInferenceAvailable()) ? "native" : "wasm");
  const flip = options.flip ?? false;
  // WASM: a pool of face workers (one-thread sessions each); native (its own threads),
  // WebGPU or workers = 0: here
  const workers = inference !== "wasm"
    ? 0
    : Math.max(0, options.workers ?? navigator.hardwareConcurrency ?? 1);
  // a download is fetched (and checked) once, before any worker wants it
  if (workers > 0) await fetchModelFiles(model, options.cacheDir);
  const pool = workers > 0
    ? await FacePool.start(Math.min(workers, Math.max(1, scan.images.length)), model, {
      cacheDir: options.cacheDir,
      flip,
    })
    : null;
  const [detector, embedder] = pool ? [null, null] : await Promise.all([
    FaceDetector.load(inference),
    FaceEmbedder.load(model, { batch: 16, device: inference, cacheDir: options.cacheDir, flip }),
  ]);
  const cache = options.faceCache
    ? new FaceCache(
      options.faceCache,
      `ssd68-v1-c${options.minConfidence ?? 0.5}-s${options.minFaceSize ?? 20}`,
      modelKey(model) + (flip ? "-flip" : ""),
    )
    : null;
  const dims = model.dims;
  const faces: FaceRecord[] = [];
  const vectorRows: Float32Array[] = [];
  const failed: FailedFile[] = [];
  const noFace: string[] = [];
  const centralFace = new Map<number, string>(); // face id → label, for evaluation
  const wantChips = options.onChip !== undefined;
  const faceStages = () =>
    (["decode", "detect", "align", "embed"] as const)
      .map((k) => `${k} ${seconds[k].toFixed(0)} s`).join(", ");

  /** One photo, start to end except the bookkeeping; runs ahead of the in-order consumer. */
  type Outcome =
    | { ok: PhotoFaces; hash: string; cachedFaces: boolean; cachedVectors: boolean }
    | { error: string };
  const process = async (i: number): Promise<Outcome> => {
    const entry = scan.images[i];
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(entry.path);
    } catch (e) {
      return { error: `cannot read: ${(e as Error).message}` };
    }
    const hash = cache ? await sha256Hex(bytes) : "";
    const hit = cache ? await cache.getFaces(hash) : null;
    let vectors = hit && cache ? await cache.getVectors(hash, hit.faces.length * dims) : null;
    if (hit?.faces.length === 0) vectors = new Float32Array(0);
    const photoOptions = {
      maxPixels: options.maxPixels,
      minConfidence: options.minConfidence,
      minFaceSize: options.minFaceSize,
      cached: hit,
      embed: vectors === null,
      chips: wantChips,
    };
    try {
      const r = hit && vectors && !(wantChips && hit.faces.length)
        ? {
          ...hit,
          vectors,
          chips: [],
          seconds: { decode: 0, detect: 0, align: 0, embed: 0 },
        }
        : pool
        ? await pool.run(bytes, entry.relative, photoOptions)
        : await photoFaces(bytes, entry.relative, detector!, embedder!, photoOptions);
      if (vectors) r.vectors = vectors;
      return { ok: r, hash, cachedFaces: hit !== null, cachedVectors: vectors !== null };
    } catch (e) {
      if (e instanceof InputError) return { error: e.problem };
      throw e;
    }
  };

  try {
    // photos in flight: a few per worker, so that memory stays bounded (a few photos' pixels)
    const window = pool ? 2 * pool.size : 1;
    const inFlight = new Map<number, Promise<Outcome>>();
    let next = 0;
    for (let i = 0; i < scan.images.length; i++) {
      options.signal?.throwIfAborted();
      while (next < scan.images.length && next < i + window) {
        const p = process(next);
        p.catch(() => {}); // awaited in order below
        inFlight.set(next++, p);
      }
      progress("faces", i, scan.images.length, faceStages());
      const entry = scan.images[i];
      const outcome = await inFlight.get(i)!;
      inFlight.delete(i);
      if ("error" in outcome) {
        failed.push({ file: entry.relative, error: outcome.error });
        continue;
      }
      const r = outcome.ok;
      for (const k of ["decode", "detect", "align", "embed"] as const) seconds[k] += r.seconds[k];
      if (cache && !outcome.cachedFaces) {
        await cache.putFaces(outcome.hash, { width: r.width, height: r.height, faces: r.faces });
      }
      if (cache && !outcome.cachedVectors) await cache.putVectors(outcome.hash, r.vectors);
      if (r.faces.length === 0) {
        noFace.push(entry.relative);
        continue;
      }
      let nearest = -1, nearestD = Infinity;
      for (let f = 0; f < r.faces.length; f++) {
        const b = r.faces[f].box;
        const rec: FaceRecord = {
          id: faces.length,
          file: entry.relative,
          box: b,
          score: r.faces[f].score,
          points: fivePoints(r.faces[f].landmarks),
          cluster: -1,
          similarity: 0,
          label: null,
        };
        faces.push(rec);
        vectorRows.push(r.vectors.slice(f * dims, (f + 1) * dims));
        if (r.chips[f]) await options.onChip?.(rec, r.chips[f]);
        const d = Math.hypot(b.x + b.width / 2 - r.width / 2, b.y + b.height / 2 - r.height / 2);
        if (d < nearestD) [nearest, nearestD] = [rec.id, d];
      }
      if (entry.label !== null) centralFace.set(nearest, entry.label);
    }
    progress("faces", scan.images.length, scan.images.length, faceStages());
  } finally {
    await Promise.all([detector?.release(), embedder?.release(), pool?.close()]);
  }
  lap = performance.now();
  const n = faces.length;
  const vectors = new Float32Array(n * dims);
  vectorRows.forEach((v, i) => vectors.set(v, i * dims));
  let numClusters = 0, singletons = 0, knnBackend = options.knn?.name ?? "none";
  if (n > 0) {
    let stage: string | null = null;
    const r = await clusterFeatures({ rows: n, cols: dims, data: vectors }, {
      k,
      minSim,
      knn: options.knn,
      name: "embeddings",
      signal: options.signal,
      onStage: (s) => {
        if (stage) progress(stage, n, n);
        progress(s, 0, n);
        stage = s;
      },
    });
    if (stage) progress(stage, n, n);
    seconds.knn = r.seconds.knn;
    seconds.links = r.seconds.links;
    seconds.infomap = r.seconds.infomap;
    numClusters = r.numClusters;
    knnBackend = r.knnBackend;
    // cluster sizes and mean directions
    const size = new Int32Array(numClusters);
    const centre = new Float64Array(numClusters * dims);
    for (let i = 0; i < n; i++) {
      const c = r.labels[i];
      faces[i].cluster = c;
      size[c]++;
      for (let j = 0; j < dims; j++) centre[c * dims + j] += vectors[i * dims + j];
    }
    for (let c = 0; c < numClusters; c++) {
      let s = 0;
      for (let j = 0; j < dims; j++) s += centre[c * dims + j] ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let j = 0; j < dims; j++) centre[c * dims + j] *= inv;
    }
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let j = 0; j < dims; j++) {
        d += centre[faces[i].cluster * dims + j] * vectors[i * dims + j];
      }
      faces[i].similarity = d;
    }
    for (let c = 0; c < numClusters; c++) if (size[c] === 1) singletons++;
  }
  let evaluation: FolderClustering["evaluation"] = null;
  if (centralFace.size > 0) {
    const ids = [...centralFace.keys()].sort((a, b) => a - b);
    for (const id of ids) faces[id].label = centralFace.get(id)!;
    evaluation = {
      faces: ids.length,
      metrics: evaluate(ids.map((id) => centralFace.get(id)!), ids.map((id) => faces[id].cluster)),
    };
  }
  seconds.total = (performance.now() - t0) / 1000;
  return {
    input: dir,
    model,
    settings: { k, minSim, flip },
    photos: scan.images.map((s) => s.relative),
    faces,
    vectors,
    numClusters,
    singletons,
    failed,
    withoutFaces: noFace,
    skipped: scan.skipped,
    knnBackend,
    seconds,
    evaluation,
  };
}
