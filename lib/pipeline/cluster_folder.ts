/**
 * The main job as a library call: a folder of photos in, every face found, embedded and
 * clustered into people, with per-stage timings and, for a labeled folder, the metrics.
 *
 * @module
 */

import type { Point } from "../align/similarity.ts";
import { fivePoints } from "../align/templates.ts";
import { clusterFeatures } from "../cluster/cluster_features.ts";
import type { DetectorKind } from "../detect/detector.ts";
import { faceQuality } from "./quality.ts";
import type { InferenceDevice } from "../embed/onnx_runtime.ts";
import { DLIB_RESNET, type EmbeddingModel } from "../embed/models.ts";
import type { PhotoFaces } from "./photo_faces.ts";
import { FaceEngine } from "./face_engine.ts";
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
  /** How it was found: by the detector, or the whole picture (crop mode). */
  source: "detected" | "whole";
  /** Quality in [0, 1] (see `faceQuality`); below the gate: not a face, in no person. */
  quality: number;
  /** The embedding's length before normalisation (NaN where the backend does not say). */
  norm: number;
  /** Person (cluster) id: clusters numbered by decreasing size; -1 for a gated face. */
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
  /** The face detector. @default "yunet" when it is in the model cache, else "ssd" */
  detector?: DetectorKind;
  /**
   * YuNet's faces aligned on the 68-point landmark network's points in its box (measured
   * better than YuNet's own five: BENCHMARKS.md). @default true
   */
  refine?: boolean;
  /**
   * The photos are face crops: detect with a margin and take a picture with no face found as
   * one centred face, so that no picture is dropped. @default false
   */
  crop?: boolean;
  /**
   * Faces whose quality (see `faceQuality`) is below this go to the not-a-face bucket and
   * never into a person. @default 0.5 (0 turns the gate off)
   */
  minQuality?: number;
  /** Smallest detector score kept. @default 0.7 for YuNet, 0.5 for the SSD */
  minConfidence?: number;
  /** Smallest face (shorter box side, pixels). @default 20 */
  minFaceSize?: number;
  /** Also embed each face's mirror image and average the two. @default false */
  flip?: boolean;
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
  /** Every photo accounted for: with a face (found or taken whole), without one, failed. */
  accounting: { withFaces: number; withoutFaces: number; failed: number };
  /** Detector used, and how many pictures were taken whole (crop mode). */
  detection: { detector: DetectorKind; refine: boolean; crop: boolean; whole: number };
  /** Faces below the quality gate (not clustered), and the gate. */
  gated: { faces: number; minQuality: number };
  /** kNN backend used. */
  knnBackend: string;
  /** Seconds per stage. */
  seconds: PipelineSeconds;
  /**
   * For a labeled folder: the metrics over the labeled photos, those without a usable face
   * (none found, failed, or below the quality gate) counted as a cluster of their own each;
   * `coverage` = labeled photos with a clustered face / labeled photos.
   */
  evaluation:
    | { faces: number; photos: number; coverage: number; metrics: ClusteringMetrics }
    | null;
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
  const engine = await FaceEngine.start({
    model,
    inference: options.inference,
    cacheDir: options.cacheDir,
    detector: options.detector,
    refine: options.refine,
    flip: options.flip,
    workers: options.workers,
    photos: scan.images.length,
  });
  const detectorKind = engine.detector, refine = engine.refine;
  const flip = options.flip ?? false;
  const crop = options.crop ?? false;
  const minQuality = options.minQuality ?? 0.5;
  const dims = model.dims;
  const faces: FaceRecord[] = [];
  const vectorRows: Float32Array[] = [];
  const failed: FailedFile[] = [];
  const noFace: string[] = [];
  const centralFace = new Map<number, string>(); // face id → label, for evaluation
  let whole = 0;
  const wantChips = options.onChip !== undefined;
  /** Photos with faces: size and label, to pick the face that carries the label. */
  const photoOf = new Map<string, { width: number; height: number; label: string | null }>();
  const setQuality = (rec: FaceRecord, norm: number) => {
    rec.norm = norm;
    rec.quality = faceQuality({
      box: rec.box,
      points: rec.points,
      norm,
      normRange: model.normRange ?? null,
      whole: rec.source === "whole",
    });
  };
  /** Faces found on this thread whose chips wait to be embedded in one batch. */
  const pending: { recs: FaceRecord[]; chips: RgbImage[] }[] = [];
  let pendingChips = 0;
  const flush = async () => {
    if (pendingChips === 0) return;
    const t = performance.now();
    const { vectors, norms } = await engine.embed(pending.flatMap((p) => p.chips));
    seconds.embed += (performance.now() - t) / 1000;
    let row = 0;
    for (const p of pending) {
      for (const rec of p.recs) {
        vectorRows[rec.id] = vectors.slice(row * dims, (row + 1) * dims);
        setQuality(rec, norms[row++]);
      }
    }
    pending.length = 0;
    pendingChips = 0;
  };
  const faceStages = () =>
    (["decode", "detect", "align", "embed"] as const)
      .map((k) => `${k} ${seconds[k].toFixed(0)} s`).join(", ");

  /** One photo, start to end except the bookkeeping; runs ahead of the in-order consumer. */
  type Outcome = { ok: PhotoFaces } | { error: string };
  const process = async (i: number): Promise<Outcome> => {
    const entry = scan.images[i];
    try {
      const bytes = await Deno.readFile(entry.path);
      // on this thread, chips are embedded in batches across photos (below); workers embed
      return {
        ok: await engine.photo(bytes, entry.relative, {
          maxPixels: options.maxPixels,
          minConfidence: options.minConfidence,
          minFaceSize: options.minFaceSize,
          crop,
          chips: wantChips,
        }),
      };
    } catch (e) {
      if (e instanceof InputError) return { error: e.problem };
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
        return { error: `cannot read: ${e.message}` };
      }
      throw e;
    }
  };

  try {
    // photos in flight: a few, so that memory stays bounded (a few photos' pixels)
    const window = engine.window;
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
      const deferred = r.faces.length > 0 && r.vectors.length === 0;
      if (r.faces.length === 0) {
        noFace.push(entry.relative);
        continue;
      }
      photoOf.set(entry.relative, { width: r.width, height: r.height, label: entry.label });
      const recs: FaceRecord[] = [];
      for (let f = 0; f < r.faces.length; f++) {
        const source = r.faces[f].source ?? "detected";
        const rec: FaceRecord = {
          id: faces.length,
          file: entry.relative,
          box: r.faces[f].box,
          score: r.faces[f].score,
          points: fivePoints(r.faces[f].landmarks),
          source,
          quality: 0,
          norm: NaN,
          cluster: -1,
          similarity: 0,
          label: null,
        };
        if (source === "whole") whole++;
        faces.push(rec);
        recs.push(rec);
        vectorRows.push(deferred ? new Float32Array(0) : r.vectors.slice(f * dims, (f + 1) * dims));
        if (!deferred) setQuality(rec, r.norms[f] ?? NaN);
        if (r.chips[f] && wantChips) await options.onChip?.(rec, r.chips[f]);
      }
      if (deferred) {
        pending.push({ recs, chips: r.chips });
        pendingChips += recs.length;
        if (pendingChips >= EMBED_BATCH) await flush();
      }
    }
    await flush();
    progress("faces", scan.images.length, scan.images.length, faceStages());
  } finally {
    await engine.close();
  }
  pickLabeledFaces(faces, photoOf, minQuality, centralFace);
  lap = performance.now();
  const all = new Float32Array(faces.length * dims);
  vectorRows.forEach((v, i) => all.set(v, i * dims));
  // faces below the quality gate are kept (listed, archived as not faces) but not clustered
  const kept = faces.filter((f) => f.quality >= minQuality).map((f) => f.id);
  const n = kept.length;
  const vectors = new Float32Array(n * dims);
  kept.forEach((id, i) => vectors.set(all.subarray(id * dims, (id + 1) * dims), i * dims));
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
    kept.forEach((id, i) => faces[id].cluster = r.labels[i]);
    const size = clusterSimilarities(faces, kept, vectors, numClusters, dims);
    for (let c = 0; c < numClusters; c++) if (size[c] === 1) singletons++;
  }
  const evaluation = evaluateLabeled(scan.images, faces, centralFace);
  seconds.total = (performance.now() - t0) / 1000;
  return {
    input: dir,
    model,
    settings: { k, minSim, flip },
    photos: scan.images.map((s) => s.relative),
    faces,
    vectors: all,
    numClusters,
    singletons,
    failed,
    withoutFaces: noFace,
    skipped: scan.skipped,
    accounting: {
      withFaces: scan.images.length - noFace.length - failed.length,
      withoutFaces: noFace.length,
      failed: failed.length,
    },
    detection: { detector: detectorKind, refine, crop, whole },
    gated: { faces: faces.length - n, minQuality },
    knnBackend,
    seconds,
    evaluation,
  };
}

/** Faces per embedding call when chips are batched across photos on this thread. */
const EMBED_BATCH = 32;

/**
 * For each labeled photo, the face that carries its label: of its faces above the quality
 * gate, the one nearest the photo's centre.
 */
function pickLabeledFaces(
  faces: FaceRecord[],
  photoOf: Map<string, { width: number; height: number; label: string | null }>,
  minQuality: number,
  centralFace: Map<number, string>,
): void {
  const best = new Map<string, [number, number]>();
  for (const f of faces) {
    const photo = photoOf.get(f.file)!;
    if (photo.label === null || f.quality < minQuality) continue;
    const b = f.box;
    const d = Math.hypot(
      b.x + b.width / 2 - photo.width / 2,
      b.y + b.height / 2 - photo.height / 2,
    );
    const seen = best.get(f.file);
    if (!seen || d < seen[1]) best.set(f.file, [f.id, d]);
  }
  for (const [file, [id]] of best) centralFace.set(id, photoOf.get(file)!.label!);
}

/**
 * Sets each clustered face's similarity to its cluster's mean direction.
 *
 * @returns The cluster sizes.
 */
function clusterSimilarities(
  faces: FaceRecord[],
  kept: number[],
  vectors: Float32Array,
  numClusters: number,
  dims: number,
): Int32Array {
  const size = new Int32Array(numClusters);
  const centre = new Float64Array(numClusters * dims);
  kept.forEach((id, i) => {
    const c = faces[id].cluster;
    size[c]++;
    for (let j = 0; j < dims; j++) centre[c * dims + j] += vectors[i * dims + j];
  });
  for (let c = 0; c < numClusters; c++) {
    let s = 0;
    for (let j = 0; j < dims; j++) s += centre[c * dims + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dims; j++) centre[c * dims + j] *= inv;
  }
  kept.forEach((id, i) => {
    let d = 0;
    for (let j = 0; j < dims; j++) {
      d += centre[faces[id].cluster * dims + j] * vectors[i * dims + j];
    }
    faces[id].similarity = d;
  });
  return size;
}

/**
 * The metrics over every labeled photo: its central clustered face's cluster, or (no face
 * found, a failed file, only gated faces) a cluster of its own, which counts against recall.
 */
function evaluateLabeled(
  images: { relative: string; label: string | null }[],
  faces: FaceRecord[],
  centralFace: Map<number, string>,
): FolderClustering["evaluation"] {
  const labeled = images.filter((e) => e.label !== null);
  if (labeled.length === 0) return null;
  const byFile = new Map<string, number>();
  for (const [id, label] of centralFace) {
    faces[id].label = label;
    byFile.set(faces[id].file, faces[id].cluster);
  }
  let lost = 1 << 30;
  const truth: string[] = [], predicted: number[] = [];
  for (const e of labeled) {
    truth.push(e.label!);
    predicted.push(byFile.get(e.relative) ?? lost++);
  }
  return {
    faces: centralFace.size,
    photos: labeled.length,
    coverage: centralFace.size / labeled.length,
    metrics: evaluate(truth, predicted),
  };
}
