/**
 * The CPU kNN path: exact, blocked SIMD dot products in WebAssembly, spread over Deno
 * Workers that share the rows through a `SharedArrayBuffer`.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import type { Matrix } from "../io/npy.ts";
import { TopKSearcher } from "./cpu_kernel.ts";
import type { KnnBackend, KnnGraph, KnnSearchOptions } from "./types.ts";

/** Options of {@link CpuKnn}. */
export interface CpuKnnOptions {
  /** Worker threads; 0 runs on the calling thread. @default navigator.hardwareConcurrency */
  workers?: number;
  /** Query rows per job handed to a worker. @default 512 */
  chunkRows?: number;
}

/** Below this many multiply-adds the search runs on the calling thread. */
const INLINE_WORK = 2e8;

/**
 * Exact kNN on the CPU.
 *
 * @example
 * ```ts
 * import { CpuKnn } from "./cpu.ts";
 * const g = await new CpuKnn({ workers: 0 }).search(
 *   { rows: 3, cols: 2, data: new Float32Array([1, 0, 0, 1, 0.6, 0.8]) },
 *   2,
 * );
 * console.log(g.indices); // Int32Array [0, 2, 1, 2, 2, 1]
 * ```
 */
export class CpuKnn implements KnnBackend {
  #workers: number;
  #chunkRows: number;

  /**
   * @param options Worker count and job size.
   */
  constructor(options: CpuKnnOptions = {}) {
    this.#workers = Math.max(0, options.workers ?? navigator.hardwareConcurrency ?? 1);
    this.#chunkRows = Math.max(4, options.chunkRows ?? 512);
  }

  /** "cpu" with the number of workers. */
  get name(): string {
    return this.#workers > 0 ? `cpu (wasm simd, ${this.#workers} workers)` : "cpu (wasm simd)";
  }

  /**
   * Finds each row's k nearest rows (see {@link KnnBackend.search}).
   *
   * @param vectors L2-normalised rows.
   * @param k Neighbours per row.
   * @param options Abort signal.
   * @returns The neighbours.
   */
  async search(vectors: Matrix, k: number, options: KnnSearchOptions = {}): Promise<KnnGraph> {
    if (!Number.isInteger(k) || k < 1) {
      throw new InputError("k", `must be an integer ≥ 1, got ${k}`);
    }
    const { rows: n, cols: d } = vectors;
    options.signal?.throwIfAborted();
    if (this.#workers === 0 || n * n * d < INLINE_WORK) {
      const indices = new Int32Array(n * k), similarities = new Float32Array(n * k);
      new TopKSearcher(d).search(vectors.data, n, d, 0, n, k, indices, similarities);
      return { n, k, indices, similarities };
    }
    const data = new SharedArrayBuffer(n * d * 4);
    new Float32Array(data).set(vectors.data.subarray(0, n * d));
    const idx = new SharedArrayBuffer(n * k * 4), sim = new SharedArrayBuffer(n * k * 4);
    const chunks: [number, number][] = [];
    for (let s = 0; s < n; s += this.#chunkRows) chunks.push([s, Math.min(n, s + this.#chunkRows)]);
    const count = Math.min(this.#workers, chunks.length);
    const workers = Array.from(
      { length: count },
      () => new Worker(new URL("./cpu_worker.ts", import.meta.url), { type: "module" }),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        let next = 0, pending = 0;
        const onAbort = () =>
          reject(options.signal?.reason ?? new DOMException("Aborted", "AbortError"));
        options.signal?.addEventListener("abort", onAbort, { once: true });
        const give = (w: Worker) => {
          if (options.signal?.aborted) return;
          if (next >= chunks.length) {
            if (pending === 0) {
              options.signal?.removeEventListener("abort", onAbort);
              resolve();
            }
            return;
          }
          const c = next++;
          pending++;
          w.postMessage({
            data,
            idx,
            sim,
            n,
            d,
            k,
            rowStart: chunks[c][0],
            rowEnd: chunks[c][1],
            chunk: c,
          });
        };
        for (const w of workers) {
          w.onmessage = (e: MessageEvent<{ done?: number; error?: string }>) => {
            pending--;
            if (e.data.error) reject(new Error(`kNN worker failed: ${e.data.error}`));
            else give(w);
          };
          w.onerror = (e) => {
            e.preventDefault();
            reject(new Error(`kNN worker failed: ${e.message}`));
          };
          give(w);
        }
      });
    } finally {
      for (const w of workers) w.terminate();
    }
    return {
      n,
      k,
      indices: new Int32Array(idx).slice(),
      similarities: new Float32Array(sim).slice(),
    };
  }
}
