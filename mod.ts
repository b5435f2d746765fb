/**
 * facecluster: cluster face embeddings into people with a k-nearest-neighbour similarity
 * graph and the Infomap map equation, as the Python seed (faiss + C++ Infomap) does, in
 * TypeScript.
 *
 * ```ts
 * import { clusterFeatures, evaluate } from "@facecluster/facecluster";
 * const data = new Float32Array([1, 0, 0.99, 0.1, 0, 1, 0.1, 0.99]);
 * const r = await clusterFeatures({ rows: 4, cols: 2, data }, { k: 2, minSim: 0.5 });
 * console.log(r.labels, evaluate(["a", "a", "b", "b"], r.labels).bcubed.f);
 * ```
 *
 * @module
 */

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
export { type DetectedFace, type DetectOptions, FaceDetector } from "./lib/detect/detector.ts";
export { FaceEmbedder } from "./lib/embed/embedder.ts";
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
