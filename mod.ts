/**
 * facecluster: find every face in a folder of photos, embed it, build a k-nearest-neighbour
 * similarity graph (WGSL compute shaders on WebGPU, or WASM SIMD on the CPU), cluster it
 * with the Infomap map equation, and evaluate against labels. Nothing here reads
 * `Deno.args` or exits; long calls take progress callbacks and an `AbortSignal`.
 *
 * The main calls:
 * - {@link clusterFolder}: a folder of photos in, people out (faces, clusters, timings,
 *   metrics for a labeled folder); {@link Archive} writes them as one folder per person.
 * - {@link embedFaces}: images (paths, bytes or RGB) to faces and unit vectors.
 * - {@link buildKnnGraph}: vectors to kNN lists and the seed's links.
 * - {@link infomap}: links to modules (the map equation, two-level).
 * - {@link evaluate}: pairwise, BCubed and NMI of a clustering against labels.
 * - {@link Library}: a photo library that remembers (one SQLite file): incremental updates,
 *   stable person ids, the user's decisions as constraints; {@link exportLibrary} keeps its
 *   output folder in step; {@link startReview} serves the review page on 127.0.0.1.
 *
 * ```ts
 * import { buildKnnGraph, evaluate, infomap } from "@facecluster/facecluster";
 * const vectors = new Float32Array([1, 0, 0.99, 0.1, 0, 1, 0.1, 0.99]);
 * const { links } = await buildKnnGraph(vectors, { dims: 2, k: 2, device: "cpu" });
 * const { modules } = infomap(links);
 * console.log(evaluate(["a", "a", "b", "b"], Array.from(modules)).bcubed.f); // 1
 * ```
 *
 * ```ts ignore
 * import { clusterFolder } from "@facecluster/facecluster";
 * const controller = new AbortController();
 * const r = await clusterFolder("photos", {
 *   onProgress: (stage, done, total) => console.log(stage, done, total),
 *   signal: controller.signal,
 * });
 * console.log(`${r.numClusters} clusters of ${r.faces.length} faces`);
 * ```
 *
 * @module
 */

export {
  buildKnnGraph,
  type BuildKnnGraphOptions,
  type EmbeddedFace,
  type EmbeddedFaces,
  embedFaces,
  type EmbedFacesOptions,
  type ImageInput,
  type KnnGraphResult,
} from "./lib/api.ts";
export { InputError } from "./lib/errors.ts";
export { encodeNpy, type Matrix, parseNpy, readNpy } from "./lib/io/npy.ts";
export { parseLabels, readLabels } from "./lib/io/labels.ts";
export { infomap, type InfomapOptions, type InfomapResult } from "./lib/infomap/infomap.ts";
export type { LinkList } from "./lib/infomap/flow_graph.ts";
export { CpuKnn, type CpuKnnOptions } from "./lib/knn/cpu.ts";
export type { KnnBackend, KnnGraph, KnnSearchOptions } from "./lib/knn/types.ts";
export { type Links, linksFromKnn } from "./lib/knn/links.ts";
export { l2Normalize } from "./lib/knn/normalize.ts";
export { type ClusteringMetrics, evaluate, type PrecisionRecall } from "./lib/metrics/metrics.ts";
export {
  clusterFeatures,
  type ClusterFeaturesOptions,
  type FeatureClustering,
  type StageSeconds,
} from "./lib/cluster/cluster_features.ts";
export { codelengthOf } from "./lib/infomap/infomap.ts";
export {
  createKnnBackend,
  type CreateKnnOptions,
  FallbackKnn,
  type KnnDevice,
} from "./lib/knn/select.ts";
export { GpuError, GpuKnn, type GpuKnnOptions } from "./lib/knn/gpu.ts";
export { acquireGpu, type GpuContext } from "./lib/gpu/device.ts";
export {
  clusterFolder,
  type ClusterFolderOptions,
  type FaceRecord,
  type FailedFile,
  type FolderClustering,
  type PipelineSeconds,
  type ProgressCallback,
} from "./lib/pipeline/cluster_folder.ts";
export {
  Archive,
  type ArchiveOptions,
  type ArchiveSummary,
  defaultOutput,
  type LinkMode,
} from "./lib/archive/archive.ts";
export {
  defaultDetector,
  type DetectedFace,
  type DetectOptions,
  type DetectorKind,
  type DetectorLoadOptions,
  FaceDetector,
  isYunetAvailable,
} from "./lib/detect/detector.ts";
export { type DetectorModel, YUNET } from "./lib/detect/yunet.ts";
export { faceQuality, type QualityInput } from "./lib/pipeline/quality.ts";
export { FaceEmbedder } from "./lib/embed/embedder.ts";
export { GpuEmbedder, type GpuEmbedderOptions } from "./lib/embed/gpu_embedder.ts";
export { type Float16Model, toFloat16 } from "./lib/onnx/fp16.ts";
export { DLIB_RESNET, type EmbeddingModel } from "./lib/embed/models.ts";
export { decodeImage, type DecodeOptions, sniffFormat } from "./lib/image/decode.ts";
export type { RgbImage } from "./lib/image/types.ts";
export {
  scanFolder,
  type ScannedImage,
  type ScanProblem,
  type ScanResult,
} from "./lib/scan/scan.ts";
export type { Point } from "./lib/align/similarity.ts";
export type { InferenceDevice } from "./lib/embed/onnx_runtime.ts";
export { chooseInferenceDevice } from "./lib/embed/onnx_runtime.ts";
export type { ImageFormat } from "./lib/image/decode.ts";
export type { AcquireGpuOptions } from "./lib/gpu/device.ts";
export type { ScanOptions } from "./lib/scan/scan.ts";
export {
  type FetchOptions,
  fetchRemoteFile,
  modelCacheDir,
  type RemoteFile,
} from "./lib/embed/download.ts";
export { defaultModel, isModelAvailable, MOBILEFACENET, MODELS } from "./lib/embed/models.ts";
export { modelKey } from "./lib/embed/models.ts";
export { type EmbedderOptions } from "./lib/embed/embedder.ts";
export { modelFromFile, type ModelSidecar } from "./lib/embed/model_file.ts";
export {
  inspectModel,
  type OnnxModelInfo,
  type OnnxValueInfo,
  type PreparedModel,
  prepareModel,
  type PrepareOptions,
} from "./lib/onnx/prepare.ts";
export { verification, type VerificationResult } from "./lib/metrics/verification.ts";
export { Progress, type ProgressOptions } from "./lib/progress/progress.ts";
export {
  cropPath,
  renderReport,
  type ReportData,
  type ReportFace,
} from "./lib/report/report_html.ts";
export { type ReportFiles, SHEET_FACES, writeReport } from "./lib/report/write_report.ts";
export { contactSheet, type ContactSheetOptions } from "./lib/report/contact_sheet.ts";
export { encodePng } from "./lib/image/encode_png.ts";
export { resizeBilinear } from "./lib/image/transform.ts";
export {
  type FaceView,
  Library,
  type PersonRef,
  type PersonView,
  type UpdateOptions,
  type UpdateSummary,
} from "./lib/library/library.ts";
export {
  cleanOutputs,
  exportLibrary,
  type ExportOptions,
  type ExportSummary,
  type PlaceMode,
} from "./lib/library/export.ts";
export { SCHEMA_VERSION, SqliteStore } from "./lib/library/sqlite_store.ts";
export type {
  Assignment,
  Box,
  CannotLink,
  Clustering,
  Decision,
  Edit,
  LibraryStore,
  NeighbourList,
  NewFace,
  OutputFile,
  StoredFace,
  StoredPerson,
  StoredPhoto,
} from "./lib/library/store.ts";
export type { IngestSummary } from "./lib/library/ingest.ts";
export type { ReclusterSummary } from "./lib/library/recluster.ts";
export type { NeighbourSummary } from "./lib/library/neighbours.ts";
export {
  constrainedInfomap,
  type ConstrainedModules,
  type MustLink,
  type RowConstraints,
} from "./lib/library/constrained_infomap.ts";
export { type ReviewOptions, type ReviewServer, startReview } from "./lib/review/server.ts";
