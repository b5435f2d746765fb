/**
 * An opt-in cache of what was found in each photo, keyed by the photo's sha256: the faces
 * (keyed by detector and its settings) and their embeddings (keyed by the model's exact
 * weights, so results of different models never mix). A re-run over the same photos, or a
 * run with another model, skips detection; a run with the same model skips embedding too.
 *
 * @module
 */

import type { DetectedFace } from "../detect/detector.ts";
import { writeFileAtomic } from "../io/atomic.ts";

/** Faces found in one photo, as cached. */
export interface CachedDetection {
  /** Decoded (orientation-corrected) width. */
  width: number;
  /** Decoded height. */
  height: number;
  /** The faces. */
  faces: DetectedFace[];
}

/**
 * Reads and writes cached faces and embeddings under one folder:
 * `faces/<detector key>/<ab>/<sha256>.json` and `embeddings/<model key>/<ab>/<sha256>.f32n` (vectors, then one norm per face).
 * Entries are written atomically; an unreadable or inconsistent entry counts as missing.
 *
 * @example
 * ```ts ignore
 * import { FaceCache } from "./face_cache.ts";
 * const cache = new FaceCache("/tmp/fc", "ssd68-c0.5-s20", "dlib-46addda878a6");
 * const hit = await cache.getFaces(await sha256Hex(bytes));
 * ```
 */
export class FaceCache {
  /** The cache folder. */
  readonly dir: string;
  #faces: string;
  #vectors: string;

  /**
   * Opens (lazily: nothing is created until the first write) a cache folder.
   *
   * @param dir The cache folder (created on first write).
   * @param detectorKey Names the detector and its settings.
   * @param modelKey Names the embedding model's weights and how it is run (e.g. mirrored).
   */
  constructor(dir: string, detectorKey: string, modelKey: string) {
    this.dir = dir;
    this.#faces = `${dir}/faces/${detectorKey}`;
    this.#vectors = `${dir}/embeddings/${modelKey}`;
  }

  #path(base: string, hash: string, ext: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`not a sha256: ${hash}`);
    return `${base}/${hash.slice(0, 2)}/${hash}.${ext}`;
  }

  /**
   * The cached faces of a photo.
   *
   * @param hash The photo's sha256.
   * @returns The faces, or null when not cached.
   */
  async getFaces(hash: string): Promise<CachedDetection | null> {
    try {
      const v = JSON.parse(await Deno.readTextFile(this.#path(this.#faces, hash, "json")));
      if (typeof v?.width !== "number" || !Array.isArray(v.faces)) return null;
      return v as CachedDetection;
    } catch {
      return null;
    }
  }

  /**
   * Stores the faces of a photo.
   *
   * @param hash The photo's sha256.
   * @param found What detection found.
   */
  async putFaces(hash: string, found: CachedDetection): Promise<void> {
    const path = this.#path(this.#faces, hash, "json");
    await Deno.mkdir(path.replace(/\/[^/]*$/, ""), { recursive: true });
    await writeFileAtomic(path, JSON.stringify(found));
  }

  /**
   * The cached embeddings of a photo's faces and their lengths before normalisation (the
   * quality gate reads them).
   *
   * @param hash The photo's sha256.
   * @param faces Number of faces.
   * @param dims Vector length.
   * @returns The vectors and norms, or null when not cached (or of another length).
   */
  async getVectors(
    hash: string,
    faces: number,
    dims: number,
  ): Promise<{ vectors: Float32Array; norms: Float32Array } | null> {
    try {
      const b = await Deno.readFile(this.#path(this.#vectors, hash, "f32n"));
      if (b.length !== faces * (dims + 1) * 4) return null;
      const all = new Float32Array(b.buffer, b.byteOffset, faces * (dims + 1));
      return { vectors: all.subarray(0, faces * dims), norms: all.subarray(faces * dims) };
    } catch {
      return null;
    }
  }

  /**
   * Stores the embeddings of a photo's faces and their norms.
   *
   * @param hash The photo's sha256.
   * @param vectors Faces × dims values.
   * @param norms One value per face.
   */
  async putVectors(hash: string, vectors: Float32Array, norms: Float32Array): Promise<void> {
    const path = this.#path(this.#vectors, hash, "f32n");
    await Deno.mkdir(path.replace(/\/[^/]*$/, ""), { recursive: true });
    const all = new Float32Array(vectors.length + norms.length);
    all.set(vectors);
    all.set(norms, vectors.length);
    await writeFileAtomic(path, new Uint8Array(all.buffer));
  }
}
