/**
 * The face models of a run, set up once: a pool of face workers (WASM) or a detector and an
 * embedder on this thread (native onnxruntime, WebGPU, or no workers), with downloads
 * fetched before any worker wants them. Shared by `clusterFolder` and the library's stages.
 *
 * @module
 */

import { type DetectorKind, FaceDetector, isYunetAvailable } from "../detect/detector.ts";
import { YUNET } from "../detect/yunet.ts";
import { fetchRemoteFile, modelCacheDir } from "../embed/download.ts";
import { FaceEmbedder } from "../embed/embedder.ts";
import { fetchModelFiles } from "../embed/model_graph.ts";
import type { EmbeddingModel } from "../embed/models.ts";
import { type InferenceDevice, nativeInferenceAvailable } from "../embed/onnx_runtime.ts";
import type { RgbImage } from "../image/types.ts";
import { FacePool } from "./face_pool.ts";
import { type PhotoFaces, photoFaces, type PhotoFacesOptions } from "./photo_faces.ts";

/** Options of {@link FaceEngine.start}. */
export interface FaceEngineOptions {
  /** The embedding model. */
  model: EmbeddingModel;
  /** Execution provider. @default "native" where onnxruntime-node loads, else "wasm" */
  inference?: InferenceDevice;
  /** Model cache. @default modelCacheDir() */
  cacheDir?: string;
  /** Detector. @default "yunet" when cached, else "ssd" */
  detector?: DetectorKind;
  /** YuNet's faces aligned on 68 points. @default true */
  refine?: boolean;
  /** Mirrored embedding averaged in. @default false */
  flip?: boolean;
  /** Face workers (WASM only). @default navigator.hardwareConcurrency */
  workers?: number;
  /** Photos to come (the pool is no larger). */
  photos: number;
}

/**
 * Finds and embeds the faces of photos.
 *
 * @example
 * ```ts ignore
 * const engine = await FaceEngine.start({ model: DLIB_RESNET, photos: 1 });
 * const r = await engine.photo(await Deno.readFile("a.jpg"), "a.jpg", {});
 * const { vectors } = r.deferred ? await engine.embed(r.chips) : r;
 * await engine.close();
 * ```
 */
export class FaceEngine {
  /** The detector used. */
  readonly detector: DetectorKind;
  /** Whether YuNet's faces are aligned on 68 points. */
  readonly refine: boolean;
  /** The execution provider. */
  readonly inference: InferenceDevice;
  #pool: FacePool | null;
  #detector: FaceDetector | null;
  #embedder: FaceEmbedder | null;

  private constructor(
    kind: DetectorKind,
    refine: boolean,
    inference: InferenceDevice,
    pool: FacePool | null,
    detector: FaceDetector | null,
    embedder: FaceEmbedder | null,
  ) {
    this.detector = kind;
    this.refine = refine;
    this.inference = inference;
    this.#pool = pool;
    this.#detector = detector;
    this.#embedder = embedder;
  }

  /**
   * Loads the models (and starts the workers).
   *
   * @param o Model, device, detector, workers.
   * @returns The engine.
   */
  static async start(o: FaceEngineOptions): Promise<FaceEngine> {
    const inference = o.inference ?? ((await nativeInferenceAvailable()) ? "native" : "wasm");
    const workers = inference !== "wasm"
      ? 0
      : Math.max(0, o.workers ?? navigator.hardwareConcurrency ?? 1);
    const kind = o.detector ?? ((await isYunetAvailable(o.cacheDir)) ? "yunet" : "ssd");
    const refine = kind === "yunet" && (o.refine ?? true);
    const flip = o.flip ?? false;
    if (workers > 0) {
      // a download is fetched (and checked) once, before any worker wants it
      await fetchModelFiles(o.model, o.cacheDir);
      if (kind === "yunet") await fetchRemoteFile(YUNET.remote[0], o.cacheDir ?? modelCacheDir());
      const pool = await FacePool.start(Math.min(workers, Math.max(1, o.photos)), o.model, {
        cacheDir: o.cacheDir,
        flip,
        detector: kind,
        refine,
      });
      return new FaceEngine(kind, refine, inference, pool, null, null);
    }
    const [detector, embedder] = await Promise.all([
      FaceDetector.load({ device: inference, detector: kind, refine, cacheDir: o.cacheDir }),
      FaceEmbedder.load(o.model, { batch: 16, device: inference, cacheDir: o.cacheDir, flip }),
    ]);
    return new FaceEngine(kind, refine, inference, null, detector, embedder);
  }

  /**
   * Photos worth having in flight at once: a few per worker; with native sessions (which
   * run calls side by side) two; WebGPU and WASM sessions take one call at a time.
   */
  get window(): number {
    return this.#pool ? 2 * this.#pool.size : this.inference === "native" ? 2 : 1;
  }

  /**
   * One photo: decoded, faces found and aligned; embedded too by the workers, while on
   * this thread the embedding is left to {@link FaceEngine.embed} (`deferred`), so that
   * chips of several photos go in one batch.
   *
   * @param source The file's bytes (or the decoded photo, on this thread).
   * @param name Its name for errors.
   * @param options Limits; `chips` to get the chips back.
   * @returns The faces.
   * @throws {InputError} When the image cannot be used.
   */
  async photo(
    source: Uint8Array | RgbImage,
    name: string,
    options: Omit<PhotoFacesOptions, "embed">,
  ): Promise<PhotoFaces & { deferred: boolean }> {
    if (this.#pool) {
      if (!(source instanceof Uint8Array)) {
        throw new Error("the face workers take encoded photos (start the engine with workers: 0)");
      }
      return {
        ...(await this.#pool.run(source, name, { ...options, embed: true })),
        deferred: false,
      };
    }
    const r = await photoFaces(source, name, this.#detector!, this.#embedder!, {
      ...options,
      embed: false,
      chips: true,
    });
    return { ...r, deferred: r.faces.length > 0 };
  }

  /**
   * Embeds chips on this thread.
   *
   * @param chips Aligned chips.
   * @returns Unit vectors and norms.
   */
  embed(chips: RgbImage[]): Promise<{ vectors: Float32Array; norms: Float32Array }> {
    if (!this.#embedder) throw new Error("the face workers embed their own chips");
    return this.#embedder.embedWithNorms(chips);
  }

  /** Releases the models and workers. */
  async close(): Promise<void> {
    await Promise.all([this.#detector?.release(), this.#embedder?.release(), this.#pool?.close()]);
  }
}
