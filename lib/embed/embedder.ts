/**
 * Face embeddings: aligned chips through an ONNX model, L2-normalised.
 *
 * @module
 */

import { alignFace } from "../align/align.ts";
import type { Point } from "../align/similarity.ts";
import { fivePoints } from "../align/templates.ts";
import type { RgbImage } from "../image/types.ts";
import { loadModelFile } from "../models.ts";
import { fetchRemoteFile, modelCacheDir } from "./download.ts";
import { DLIB_RESNET, type EmbeddingModel } from "./models.ts";
import { type InferenceDevice, loadOnnxModel, type OnnxModel } from "./onnx_runtime.ts";

/**
 * Embeds faces with one model.
 *
 * @example
 * ```ts ignore
 * import { FaceEmbedder } from "./embedder.ts";
 * const emb = await FaceEmbedder.load();
 * const { vectors, chips } = await emb.embedFaces(image, faces.map((f) => f.landmarks));
 * ```
 */
export class FaceEmbedder {
  /** The model. */
  readonly model: EmbeddingModel;
  #session: OnnxModel;
  #batch: number;

  private constructor(model: EmbeddingModel, session: OnnxModel, batch: number) {
    this.model = model;
    this.#session = session;
    this.#batch = batch;
  }

  /**
   * Loads a model from `models/`.
   *
   * @param model Which model. @default DLIB_RESNET
   * @param batch Chips per inference call. @default 16
   * @param device Execution provider. @default "wasm"
   * @param cacheDir Where downloaded models live. @default modelCacheDir()
   * @returns The embedder.
   */
  static async load(
    model: EmbeddingModel = DLIB_RESNET,
    batch = 16,
    device: InferenceDevice = "wasm",
    cacheDir?: string,
  ): Promise<FaceEmbedder> {
    cacheDir ??= modelCacheDir();
    let session: OnnxModel;
    if (model.remote) {
      // a downloaded model: verified in (or fetched into) the cache, external data beside it
      const paths: string[] = [];
      for (const f of model.remote) paths.push(await fetchRemoteFile(f, cacheDir));
      const external = await Promise.all(
        model.remote.slice(1).map(async (f, i) => ({
          path: f.name,
          data: await Deno.readFile(paths[i + 1]),
        })),
      );
      session = await loadOnnxModel(await Deno.readFile(paths[0]), model.input, device, external);
    } else {
      session = await loadOnnxModel(await loadModelFile(model.file), model.input, device);
    }
    return new FaceEmbedder(model, session, Math.min(batch, model.maxBatch ?? batch));
  }

  /**
   * The aligned chip of a face.
   *
   * @param img The image.
   * @param landmarks The face's 68 landmarks.
   * @returns The chip the model takes.
   */
  chip(img: RgbImage, landmarks: Point[]): RgbImage {
    return alignFace(img, fivePoints(landmarks), this.model.template, this.model.size);
  }

  /**
   * Embeds chips (already aligned, `model.size` square).
   *
   * @param chips The chips.
   * @returns `chips.length × dims` values, each row of unit length.
   */
  async embedChips(chips: RgbImage[]): Promise<Float32Array> {
    const { size, dims, output, normalize } = this.model;
    const out = new Float32Array(chips.length * dims);
    const plane = size * size;
    for (let b0 = 0; b0 < chips.length; b0 += this.#batch) {
      const n = Math.min(this.#batch, chips.length - b0);
      const input = new Float32Array(n * 3 * plane);
      for (let k = 0; k < n; k++) {
        const px = chips[b0 + k].data, o = k * 3 * plane;
        for (let c = 0; c < 3; c++) {
          const scale = normalize ? 1 / (255 * normalize.std[c]) : 1;
          const shift = normalize ? normalize.mean[c] / normalize.std[c] : 0;
          for (let p = 0; p < plane; p++) input[o + c * plane + p] = px[p * 3 + c] * scale - shift;
        }
      }
      const res = (await this.#session.run(input, [n, 3, size, size]))[output].data;
      for (let k = 0; k < n; k++) {
        let s = 0;
        for (let j = 0; j < dims; j++) s += res[k * dims + j] ** 2;
        const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
        for (let j = 0; j < dims; j++) out[(b0 + k) * dims + j] = res[k * dims + j] * inv;
      }
    }
    return out;
  }

  /** Frees the session. */
  async release(): Promise<void> {
    await this.#session.release();
  }
}
