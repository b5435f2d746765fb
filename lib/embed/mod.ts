/**
 * The face models: the registry (shipped dlib, downloaded MobileFaceNet and YuNet with their
 * public addresses, sizes and sha256), the download cache, a model from an `.onnx` file,
 * the graph preparation (normalisation folded in, batch made dynamic, fp16), and where the
 * models run (onnxruntime-node, or onnxruntime-web's WebGPU or WASM).
 *
 * ```ts ignore
 * import { fetchRemoteFile, MOBILEFACENET, modelCacheDir } from "@facecluster/facecluster/models";
 * for (const f of MOBILEFACENET.remote ?? []) await fetchRemoteFile(f, modelCacheDir());
 * ```
 *
 * @module
 */

export {
  defaultModel,
  DLIB_RESNET,
  type EmbeddingModel,
  isModelAvailable,
  MOBILEFACENET,
  modelKey,
  MODELS,
} from "./models.ts";
export { modelByName, modelFromFile, type ModelSidecar } from "./model_file.ts";
export { type FetchOptions, fetchRemoteFile, modelCacheDir, type RemoteFile } from "./download.ts";
export type { EmbedderOptions } from "./embedder.ts";
export { chooseInferenceDevice, type InferenceDevice } from "./onnx_runtime.ts";
export { type DetectorModel, YUNET } from "../detect/yunet.ts";
export {
  inspectModel,
  type OnnxModelInfo,
  type OnnxValueInfo,
  type PreparedModel,
  prepareModel,
  type PrepareOptions,
} from "../onnx/prepare.ts";
export { type Float16Model, toFloat16 } from "../onnx/fp16.ts";
