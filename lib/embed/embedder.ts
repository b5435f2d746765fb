/**
 * Face embeddings: aligned chips through an ONNX model, L2-normalised.
 *
 * @module
 */

import { alignFace } from "../align/align.ts";
import type { Point } from "../align/similarity.ts";
import { fivePoints } from "../align/templates.ts";
import type { RgbImage } from "../image/types.ts";
import { modelGraph } from "./model_graph.ts";
import { DLIB_RESNET, type EmbeddingModel } from "./models.ts";
import { type InferenceDevice, loadOnnxModel, type OnnxModel } from "./onnx_runtime.ts";

/** Options of {@link FaceEmbedder.load}. */
export interface EmbedderOptions {
  /** Chips per inference call. @default 16 */
  batch?: number;
  /** Execution provider. @default "wasm" */
  device?: InferenceDevice;
  /** Where downloaded models live. @default modelCacheDir() */
  cacheDir?: string;
  /** Also embed each face's mirror image and average the two (twice the work). @default false */
  flip?: boolean;
  /** On WebGPU: compute in float16 where the adapter has `shader-f16`. @default false */
  fp16?: boolean;
}

/** What embeds chips: the GPU-resident WebGPU path, or a session fed from the CPU. */
interface ChipBackend {
  /** Unit vectors, and each chip's length before normalisation (mean over copies) if known. */
  embedChips(chips: RgbImage[]): Promise<{ vectors: Float32Array; norms?: Float32Array }>;
  release(): Promise<void>;
}

/**
 * Chips through a session fed from the CPU: laid out as the model's float input (mirrored
 * copies too with `flip`), `batch` inputs per run, rows normalised (copies normalised, then
 * averaged, then normalised).
 */
function sessionBackend(
  model: EmbeddingModel,
  session: OnnxModel,
  batch: number,
  flip: boolean,
): ChipBackend {
  const { size, dims, output } = model;
  const plane = size * size;
  const copies = flip ? 2 : 1;
  const perCall = Math.max(1, Math.floor(batch / copies));
  return {
    async embedChips(chips) {
      const out = new Float32Array(chips.length * dims);
      const norms = new Float32Array(chips.length);
      for (let b0 = 0; b0 < chips.length; b0 += perCall) {
        const n = Math.min(perCall, chips.length - b0);
        const input = new Float32Array(n * copies * 3 * plane);
        for (let k = 0; k < n; k++) {
          const px = chips[b0 + k].data;
          for (let m = 0; m < copies; m++) {
            const o = (k * copies + m) * 3 * plane;
            for (let c = 0; c < 3; c++) {
              for (let y = 0; y < size; y++) {
                for (let x = 0; x < size; x++) {
                  const sx = m ? size - 1 - x : x;
                  input[o + c * plane + y * size + x] = px[(y * size + sx) * 3 + c];
                }
              }
            }
          }
        }
        const res = (await session.run(input, [n * copies, 3, size, size]))[output].data;
        for (let k = 0; k < n; k++) {
          const v = new Float64Array(dims);
          for (let m = 0; m < copies; m++) {
            // each copy normalised before averaging, so both count alike
            const r = (k * copies + m) * dims;
            let s = 0;
            for (let j = 0; j < dims; j++) s += res[r + j] ** 2;
            const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
            for (let j = 0; j < dims; j++) v[j] += res[r + j] * inv;
            norms[b0 + k] += Math.sqrt(s) / copies;
          }
          let s = 0;
          for (let j = 0; j < dims; j++) s += v[j] ** 2;
          const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
          for (let j = 0; j < dims; j++) out[(b0 + k) * dims + j] = v[j] * inv;
        }
      }
      return { vectors: out, norms };
    },
    release: () => session.release(),
  };
}

/**
 * Embeds faces with one model.
 *
 * @example
 * ```ts ignore
 * import { FaceEmbedder } from "./embedder.ts";
 * const emb = await FaceEmbedder.load();
 * const vectors = await emb.embedChips(faces.map((f) => emb.chip(image, f.landmarks)));
 * ```
 */
export class FaceEmbedder {
  /** The model. */
  readonly model: EmbeddingModel;
  /** Whether each face is embedded with its mirror image too (the two averaged). */
  readonly flip: boolean;
  #backend: ChipBackend;

  private constructor(model: EmbeddingModel, backend: ChipBackend, flip: boolean) {
    this.model = model;
    this.#backend = backend;
    this.flip = flip;
  }

  /**
   * Loads a model: shipped in `models/`, downloaded into the cache (fetched when missing), or
   * a file given by path. Upstream exports are rewritten on load (`prepareModel`: external
   * data inlined, batch unpinned, normalisation folded in).
   *
   * @param model Which model. @default DLIB_RESNET
   * @param options Batch size, execution provider, model cache, mirrored second pass.
   * @returns The embedder.
   */
  static async load(
    model: EmbeddingModel = DLIB_RESNET,
    options: EmbedderOptions = {},
  ): Promise<FaceEmbedder> {
    const { batch = 16, device = "wasm", flip = false } = options;
    if (device === "webgpu") {
      // chips go up as bytes and only the embeddings come back (gpu_embedder.ts)
      const { GpuEmbedder } = await import("./gpu_embedder.ts");
      const gpu = await GpuEmbedder.load(model, {
        batch,
        flip,
        fp16: options.fp16,
        cacheDir: options.cacheDir,
      });
      // its raw outputs stay on the GPU: no norms
      const backend: ChipBackend = {
        embedChips: async (chips) => ({ vectors: await gpu.embedChips(chips) }),
        release: () => gpu.release(),
      };
      return new FaceEmbedder(model, backend, flip);
    }
    const graph = await modelGraph(model, options.cacheDir);
    const session = await loadOnnxModel(graph.bytes, graph.input, device);
    return new FaceEmbedder(model, sessionBackend(model, session, batch, flip), flip);
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
    return (await this.#backend.embedChips(chips)).vectors;
  }

  /**
   * Embeds chips and tells each embedding's length before normalisation (a face-quality
   * signal; NaN where the backend keeps the raw output on the GPU).
   *
   * @param chips The chips.
   * @returns The unit vectors and the raw lengths.
   */
  async embedWithNorms(chips: RgbImage[]): Promise<{ vectors: Float32Array; norms: Float32Array }> {
    const { vectors, norms } = await this.#backend.embedChips(chips);
    return { vectors, norms: norms ?? new Float32Array(chips.length).fill(NaN) };
  }

  /** Frees the session. */
  release(): Promise<void> {
    return this.#backend.release();
  }
}
