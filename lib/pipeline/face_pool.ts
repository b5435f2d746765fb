/**
 * A pool of face workers (`face_worker.ts`), each with its own one-thread WASM sessions of
 * the detector and the embedder, fed from a queue: photos go to whichever worker is free.
 * onnxruntime-web's WASM backend hangs with more than one thread in Deno, so parallelism
 * comes from these workers.
 *
 * @module
 */

import type { DetectorKind } from "../detect/detector.ts";
import type { EmbeddingModel } from "../embed/models.ts";
import { InputError } from "../errors.ts";
import { WebWorker } from "../web_worker.ts";
import type { PhotoFaces, PhotoFacesOptions } from "./photo_faces.ts";

interface Task {
  id: number;
  bytes: Uint8Array;
  name: string;
  options: PhotoFacesOptions;
  ok: (r: PhotoFaces) => void;
  fail: (e: Error) => void;
}

/**
 * Runs {@link photoFaces} on worker threads.
 *
 * @example
 * ```ts ignore
 * import { FacePool } from "./face_pool.ts";
 * const pool = await FacePool.start(4, DLIB_RESNET);
 * const r = await pool.run(await Deno.readFile("a.jpg"), "a.jpg", {});
 * await pool.close();
 * ```
 */
export class FacePool {
  #workers: Worker[];
  #idle: Worker[];
  #queue: Task[] = [];
  #busy = new Map<Worker, Task>();
  #nextId = 0;

  private constructor(workers: Worker[]) {
    this.#workers = workers;
    this.#idle = [...workers];
    for (const w of workers) {
      w.onmessage = (e) => this.#reply(w, e.data);
      w.onerror = (e) => {
        e.preventDefault();
        this.#reply(w, { error: `face worker failed: ${e.message}`, input: false });
      };
    }
  }

  /**
   * Starts `count` workers and loads the models in each.
   *
   * @param count Workers (at least 1).
   * @param model The embedding model (fetched into the cache first if it is a download).
   * @param options Model cache, mirrored embedding, detector.
   * @returns The pool, ready.
   */
  static async start(
    count: number,
    model: EmbeddingModel,
    options: { cacheDir?: string; flip?: boolean; detector?: DetectorKind; refine?: boolean } = {},
  ): Promise<FacePool> {
    const workers = Array.from(
      { length: Math.max(1, count) },
      () => new WebWorker(new URL("./face_worker.ts", import.meta.url), { type: "module" }),
    );
    try {
      await Promise.all(workers.map((w) =>
        new Promise<void>((ok, fail) => {
          w.onmessage = (e) => e.data.ready ? ok() : fail(new Error(e.data.error));
          w.onerror = (e) => {
            e.preventDefault();
            fail(new Error(`face worker failed to start: ${e.message}`));
          };
          w.postMessage({ type: "init", model, ...options });
        })
      ));
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    }
    return new FacePool(workers);
  }

  /** Number of workers. */
  get size(): number {
    return this.#workers.length;
  }

  /**
   * Finds and embeds the faces of one photo on a free worker.
   *
   * @param bytes The file's bytes (transferred to the worker).
   * @param name The name used in errors.
   * @param options As for `photoFaces`.
   * @returns The faces.
   * @throws {InputError} For an image that cannot be decoded.
   */
  run(bytes: Uint8Array, name: string, options: PhotoFacesOptions): Promise<PhotoFaces> {
    return new Promise((ok, fail) => {
      this.#queue.push({ id: this.#nextId++, bytes, name, options, ok, fail });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#idle.length && this.#queue.length) {
      const w = this.#idle.pop()!, t = this.#queue.shift()!;
      this.#busy.set(w, t);
      w.postMessage(
        { type: "photo", id: t.id, bytes: t.bytes, name: t.name, options: t.options },
        [t.bytes.buffer as ArrayBuffer],
      );
    }
  }

  #reply(w: Worker, msg: { result?: PhotoFaces; error?: string; input?: boolean }): void {
    const t = this.#busy.get(w);
    if (!t) return;
    this.#busy.delete(w);
    this.#idle.push(w);
    if (msg.result) t.ok(msg.result);
    else t.fail(msg.input ? new InputError(t.name, msg.error!) : new Error(msg.error));
    this.#pump();
  }

  /** Frees the sessions and stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) =>
      new Promise<void>((ok) => {
        const timer = setTimeout(ok, 5000);
        w.onmessage = () => {
          clearTimeout(timer);
          ok();
        };
        w.postMessage({ type: "close" });
      })
    ));
    for (const w of this.#workers) w.terminate();
    for (const t of this.#queue) t.fail(new Error("face pool closed"));
    this.#queue = [];
  }
}
