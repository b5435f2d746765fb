/**
 * The stages of facecluster's pipeline, for code that wants one of them alone or its own
 * order: scan → decode → detect → align → embed (the face engine and its one loop) → kNN →
 * links → Infomap under the user's constraints → people → output folder and report; and the
 * library's store underneath (its interface, SQLite, the rows it holds). `mod.ts` has the
 * calls most users want; this is the rest of the public surface.
 *
 * ```ts ignore
 * import { scanFolder } from "@facecluster/facecluster/stages";
 * const { images, skipped } = await scanFolder("photos");
 * console.log(images.length, skipped.length);
 * ```
 *
 * @module
 */

export {
  HIDDEN_FOLDER,
  scanFolder,
  type ScannedImage,
  type ScanOptions,
  type ScanProblem,
  type ScanResult,
} from "./scan/scan.ts";
export {
  defaultDetector,
  type DetectedFace,
  type DetectOptions,
  type DetectorKind,
  type DetectorLoadOptions,
  FaceDetector,
  isYunetAvailable,
} from "./detect/detector.ts";
export type { Point } from "./align/similarity.ts";
export { FaceEmbedder } from "./embed/embedder.ts";
export { GpuEmbedder, type GpuEmbedderOptions } from "./embed/gpu_embedder.ts";
export { FaceEngine, type FaceEngineOptions } from "./pipeline/face_engine.ts";
export {
  EMBED_BATCH,
  type PhotoSource,
  type StreamedPhoto,
  streamFaces,
  type StreamOptions,
} from "./pipeline/face_stream.ts";
export type { PhotoFaces, PhotoFacesOptions } from "./pipeline/photo_faces.ts";
export { faceQuality, type QualityInput } from "./pipeline/quality.ts";
export type {
  FaceRecord,
  FailedFile,
  PipelineSeconds,
  ProgressCallback,
} from "./pipeline/cluster_folder.ts";
export type { EmbeddedFace, ImageInput, KnnGraphResult } from "./api.ts";
export type { StageSeconds } from "./cluster/cluster_features.ts";
export { type PrecisionRecall } from "./metrics/metrics.ts";
export { verification, type VerificationResult } from "./metrics/verification.ts";
export {
  ingest,
  type IngestOptions,
  type IngestSummary,
  type ScanChanges,
  scanChanges,
} from "./library/ingest.ts";
export { type NeighbourSummary, updateNeighbours } from "./library/neighbours.ts";
export { recluster, type ReclusterOptions, type ReclusterSummary } from "./library/recluster.ts";
export {
  constrainedInfomap,
  type ConstrainedModules,
  type MustLink,
  type RowConstraints,
} from "./library/constrained_infomap.ts";
export {
  cleanOutputs,
  exportLibrary,
  type ExportOptions,
  type ExportSummary,
} from "./library/export.ts";
export type { PersonRef, RunChanges } from "./library/library.ts";
export type { LibraryEvaluation, LibraryReader } from "./library/views.ts";
export {
  checkOutputFolder,
  defaultOutput,
  LIBRARY_FILE,
  type OpenAtOutputOptions,
} from "./library/open.ts";
export {
  DEFAULT_K,
  DEFAULT_MAX_PIXELS,
  DEFAULT_MIN_FACE_SIZE,
  DEFAULT_MIN_QUALITY,
  DEFAULT_MIN_SIM,
  type PlaceMode,
  readSettings,
  SETTINGS_VERSION,
  writeSettings,
} from "./library/settings.ts";
export { SCHEMA_VERSION, SqliteStore } from "./library/sqlite_store.ts";
export { PgStore } from "./library/postgres_store.ts";
export { isPostgresUrl, safeUrl, unreachable } from "./library/pg_url.ts";
export { openStore } from "./library/open_store.ts";
export { copyLibrary, type CopySummary } from "./library/copy.ts";
export {
  PHOTO_QUEUE,
  type PhotoBatch,
  PhotoQueue,
  type PhotoQueueOptions,
  type QueuedPhoto,
} from "./library/photo_queue.ts";
export {
  checkRoot,
  DEFAULT_BATCH,
  registerPhotos,
  type RegisterSummary,
  runWorker,
  type WorkerOptions,
  type WorkerSummary,
} from "./library/workers.ts";
export { TABLES } from "./library/store.ts";
export type {
  Assignment,
  Box,
  CannotLink,
  CellValue,
  Clustering,
  Decision,
  Edit,
  FacePage,
  FacePageFilter,
  FaceRow,
  LibrarySnapshot,
  LibraryStore,
  LockHolder,
  NeighbourList,
  NewFace,
  OutputFile,
  PersonCount,
  StoredFace,
  StoredPerson,
  StoredPhoto,
  TableRows,
} from "./library/store.ts";
export { renderReport, type ReportData, type ReportFace } from "./report/report_html.ts";
export { type ReportFiles, writeReport } from "./report/write_report.ts";
export { contactSheet, type ContactSheetOptions } from "./report/contact_sheet.ts";
export { Progress, type ProgressOptions } from "./progress/progress.ts";
