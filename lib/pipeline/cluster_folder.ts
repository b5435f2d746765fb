/**
 * The one-shot call: a folder of photos in, every face found, embedded and clustered into
 * people, with timings and, for a labeled folder, the metrics. It is the library
 * (`lib/library`) on a store that lives only for the call (a SQLite file in a temporary
 * folder, removed after): the same face
 * loop, clustering, evaluation and, when `out` is given, the same output folder as the main
 * job.
 *
 * @module
 */

import type { Point } from "../align/similarity.ts";
import type { DetectorKind } from "../detect/detector.ts";
import type { EmbeddingModel } from "../embed/models.ts";
import { accountingOf } from "../library/views.ts";
import { checkInputFolder } from "../library/open.ts";
import type { ExportSummary } from "../library/export.ts";
import {
  labelCarriers,
  Library,
  type UpdateOptions,
  type UpdateSummary,
} from "../library/library.ts";
import type { LibrarySettings } from "../library/settings.ts";
import type { FaceView, LibraryEvaluation, PersonView } from "../library/views.ts";
import type { ScanProblem } from "../scan/scan.ts";

/** One face found in a photo. */
export interface FaceRecord {
  /** Row of this face in `vectors` (faces in the order they were found). */
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
  /** Quality in [0, 1]; below the gate: not a face, in no person. */
  quality: number;
  /** The embedding's length before normalisation (NaN where the backend does not say). */
  norm: number;
  /**
   * Cluster: people numbered 0, 1, … by decreasing size, then one number per face alone;
   * -1 for a face below the quality gate.
   */
  cluster: number;
  /** Cosine similarity to its person's mean direction (0 alone). */
  similarity: number;
  /** Kept out of people as hard to recognise (a face alone). */
  hard: boolean;
  /**
   * The photo's label (its first folder) on the face that carries it in the evaluation (the
   * clustered face nearest the photo's centre), else null.
   */
  label: string | null;
  /** The aligned chip as JPEG, when `chips` was asked for. */
  chip?: Uint8Array;
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
  /** Aligned chips. */
  align: number;
  /** Embedding the chips. */
  embed: number;
  /** Nearest neighbours. */
  knn: number;
  /** Links, Infomap and people. */
  cluster: number;
  /** The output folder (0 without `out`). */
  write: number;
  /** The whole call. */
  total: number;
}

/**
 * Progress of a stage: `done` of `total` items (`total` 0: not known yet), and more to say.
 */
export type ProgressCallback = (
  stage: string,
  done: number,
  total: number,
  detail?: string,
) => void;

/**
 * Options of {@link clusterFolder}: the library's update options (model, detector,
 * thresholds, kNN backend, progress, abort), and what to hand back or write.
 */
export interface ClusterFolderOptions extends Omit<UpdateOptions, "out" | "onProgress"> {
  /** Also write the output folder here (people folders, `clusters.json`, the report). */
  out?: string;
  /** Each face's aligned chip (JPEG) in the result. @default false */
  chips?: boolean;
  /** Progress per stage. */
  onProgress?: ProgressCallback;
}

/** What {@link clusterFolder} found. */
export interface FolderClustering {
  /** The input folder. */
  input: string;
  /** Model used. */
  model: EmbeddingModel;
  /** The settings used (model, detector, k, min_sim, quality gate). */
  settings: LibrarySettings;
  /** Photos scanned (readable images), relative to the input. */
  photos: string[];
  /** Every face. */
  faces: FaceRecord[];
  /** `faces.length × model.dims` unit vectors. */
  vectors: Float32Array;
  /** Number of clusters (people, plus faces alone). */
  numClusters: number;
  /** Faces that joined nobody (above the quality gate). */
  singletons: number;
  /** Photos that could not be used. */
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
   * For a labeled folder: the metrics over the labeled photos, those without a clustered
   * face counted as a cluster of their own each; `coverage` = labeled photos with a
   * clustered face / labeled photos.
   */
  evaluation: LibraryEvaluation | null;
  /** The output folder written (with `out`), else null. */
  written: ExportSummary | null;
}

/**
 * Finds, embeds and clusters every face in a folder of photos; writes nothing unless `out`
 * is given.
 *
 * @param dir The folder.
 * @param options Model, thresholds, kNN backend, callbacks, an output folder.
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
  await checkInputFolder(dir);
  // a library file in a temporary folder, not in memory: the chips of a large folder (tens of
  // KB a face) stay on disk; removed after the call
  const tmp = await Deno.makeTempDir({ prefix: "facecluster-" });
  const lib = await Library.open(`${tmp}/library.db`);
  try {
    const { out, chips, ...update } = options;
    let summary: UpdateSummary, written: ExportSummary | null = null, write = 0;
    if (out !== undefined) {
      const r = await lib.run(dir, out, update);
      summary = r.update;
      written = r.folders;
      write = r.seconds.write;
    } else summary = await lib.update(dir, update);
    const faces = await lib.faces();
    const people = await lib.people(faces);
    return {
      ...(await describe(lib, dir, summary, faces, people, chips ?? false)),
      written,
      seconds: {
        scan: summary.seconds.scan,
        ...summary.faces.seconds,
        knn: summary.seconds.knn,
        cluster: summary.seconds.cluster,
        write,
        total: (performance.now() - t0) / 1000,
      },
    };
  } finally {
    await lib.close();
    await Deno.remove(tmp, { recursive: true });
  }
}

/** The result's fields from the library after its run. */
async function describe(
  lib: Library,
  dir: string,
  summary: UpdateSummary,
  faces: FaceView[],
  people: PersonView[],
  chips: boolean,
): Promise<Omit<FolderClustering, "seconds" | "written">> {
  const s = summary.settings;
  const model = (await lib.model())!;
  const photos = await lib.photos();
  const rank = new Map(people.map((p, i) => [p.id, i]));
  let alone = people.length;
  const gate = (f: FaceView) => f.personId === null && (f.notFace || f.quality < s.minQuality);
  // the label on the face that carries it in the evaluation (one per labeled photo)
  const carriers = new Set(
    labelCarriers(faces, photos, s.minQuality).values(),
  );
  const records = await Promise.all(faces.map(async (f, row): Promise<FaceRecord> => ({
    id: row,
    file: f.file,
    box: f.box,
    score: f.score,
    points: f.points,
    source: f.source,
    quality: f.quality,
    norm: f.norm,
    cluster: f.personId !== null ? rank.get(f.personId)! : gate(f) ? -1 : alone++,
    similarity: f.similarity,
    hard: f.hard,
    label: carriers.has(f.id) ? f.label : null,
    ...(chips ? { chip: (await lib.store.chip(f.id)) ?? undefined } : {}),
  })));
  const status = (k: string) => photos.filter((p) => p.status === k);
  return {
    input: dir,
    model,
    settings: s,
    photos: photos.map((p) => p.path),
    faces: records,
    vectors: await lib.store.vectors(faces.map((f) => f.id), model.dims),
    numClusters: alone,
    singletons: alone - people.length,
    failed: status("failed").map((p) => ({ file: p.path, error: p.error ?? "" })),
    withoutFaces: status("no_face").map((p) => p.path),
    skipped: summary.skipped,
    accounting: accountingOf(photos),
    detection: {
      detector: s.detector.kind,
      refine: s.detector.refine,
      crop: s.detector.crop,
      whole: faces.filter((f) => f.source === "whole").length,
    },
    gated: { faces: records.filter((f) => f.cluster === -1).length, minQuality: s.minQuality },
    knnBackend: summary.people.neighbours.backend,
    evaluation: await lib.evaluation(faces),
  };
}
