/**
 * The CPU kNN path: exact up to {@link EXACT_UP_TO} rows, an inverted file above (see
 * `ivf.ts`). Exact search is blocked SIMD dot products in WebAssembly, spread over Deno
 * Workers that share the rows through `SharedArrayBuffer`s. When every worker can hold
 * heaps for all rows (within `heapBudgetBytes`), each pair of row blocks is computed once
 * and feeds both blocks' rows (half the multiply-adds); otherwise the workers split the
 * query rows.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import type { Matrix } from "../io/npy.ts";
import { mergeSortedLists, ROW_BLOCK, SymmetricTopK } from "./cpu_kernel.ts";
import { IvfKnn, type IvfKnnOptions } from "./ivf.ts";
import { Pool } from "./pool.ts";
import type { KnnBackend, KnnGraph, KnnSearchOptions } from "./types.ts";

/** How the CPU path searches: exact, by an inverted file, or by the size rule. */
export type CpuKnnMethod = "auto" | "exact" | "ivf";

/**
 * Rows up to which `auto` searches exactly; above, the IVF path. Measured on this project's
 * 2-core box (128-d faces of the LFW profile, k 80): exact 0.8 s and IVF 0.9 s at 10k rows,
 * exact 4.3 s and IVF 2.1 s at 30k; every shared labeled set stays exact.
 */
export const EXACT_UP_TO = 20_000;

/** Options of {@link CpuKnn}. */
export interface CpuKnnOptions {
  /** Exact, IVF, or exact up to {@link EXACT_UP_TO} rows and IVF above. @default "auto" */
  method?: CpuKnnMethod;
  /** Options of the IVF path (its workers default to `workers`). */
  ivf?: IvfKnnOptions;
  /** Worker threads; 0 runs on the calling thread. @default navigator.hardwareConcurrency */
  workers?: number;
  /** Query rows per job in the row-range path. @default 512 */
  chunkRows?: number;
  /** Bytes of per-worker heaps the symmetric path may use. @default 2 GiB */
  heapBudgetBytes?: number;
}

/** Below this many multiply-adds the search runs on the calling thread. */
const INLINE_WORK = 2e8;

/**
 * kNN on the CPU: exact for up to {@link EXACT_UP_TO} rows, by an inverted file above.
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
  #method: CpuKnnMethod;
  #ivf: IvfKnn;
  #lastIvf = false;
  #workers: number;
  #chunkRows: number;
  #heapBudget: number;

  /**
   * Makes a CPU kNN searcher.
   *
   * @param options Worker count, job size and heap budget.
   */
  constructor(options: CpuKnnOptions = {}) {
    this.#workers = Math.max(0, options.workers ?? navigator.hardwareConcurrency ?? 1);
    this.#chunkRows = Math.max(4, options.chunkRows ?? 512);
    this.#heapBudget = options.heapBudgetBytes ?? 2 ** 31;
    this.#method = options.method ?? "auto";
    this.#ivf = new IvfKnn({ workers: this.#workers, ...options.ivf });
  }

  /** "cpu" with the method and the number of workers of the last search. */
  get name(): string {
    if (this.#lastIvf) return this.#ivf.name;
    return this.#workers > 0 ? `cpu (wasm simd, ${this.#workers} workers)` : "cpu (wasm simd)";
  }

  /**
   * Finds each row's k nearest rows (see {@link KnnBackend.search}): exactly, or by the IVF
   * path (the graph is then marked `approximate`).
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
    this.#lastIvf = this.#method === "ivf" || (this.#method === "auto" && n > EXACT_UP_TO);
    if (this.#lastIvf) return await this.#ivf.search(vectors, k, options);
    if (this.#workers === 0 || n * n * d < INLINE_WORK) {
      const sym = new SymmetricTopK(vectors.data, n, d, k);
      for (let b = 0; b < sym.blocks; b++) sym.processBlock(b);
      const indices = new Int32Array(n * k), similarities = new Float32Array(n * k);
      sym.writeSorted(indices, similarities);
      return { n, k, indices, similarities };
    }
    const data = new SharedArrayBuffer(n * d * 4);
    new Float32Array(data).set(vectors.data.subarray(0, n * d));
    const symmetric = this.#workers * n * k * 8 <= this.#heapBudget;
    const pool = new Pool(
      symmetric ? this.#workers : Math.min(this.#workers, Math.ceil(n / this.#chunkRows)),
    );
    try {
      if (symmetric) return await this.#symmetric(pool, data, n, d, k, options.signal);
      const idx = new SharedArrayBuffer(n * k * 4), sim = new SharedArrayBuffer(n * k * 4);
      const jobs = [];
      for (let s = 0; s < n; s += this.#chunkRows) {
        jobs.push({
          type: "rows",
          data,
          idx,
          sim,
          n,
          d,
          k,
          rowStart: s,
          rowEnd: Math.min(n, s + this.#chunkRows),
        });
      }
      await pool.queue(jobs, options.signal);
      return {
        n,
        k,
        indices: new Int32Array(idx).slice(),
        similarities: new Float32Array(sim).slice(),
      };
    } finally {
      pool.terminate();
    }
  }

  async #symmetric(
    pool: Pool,
    data: SharedArrayBuffer,
    n: number,
    d: number,
    k: number,
    signal?: AbortSignal,
  ): Promise<KnnGraph> {
    const heaps = Array.from({ length: pool.size }, () => ({
      idx: new SharedArrayBuffer(n * k * 4),
      sim: new SharedArrayBuffer(n * k * 4),
      len: new SharedArrayBuffer(n * 4),
    }));
    await pool.broadcast((w) => ({ type: "sym-init", data, n, d, k, ...heaps[w] }));
    const blocks = Math.ceil(n / ROW_BLOCK);
    await pool.queue(
      Array.from({ length: blocks }, (_, b) => ({ type: "sym-block", block: b })),
      signal,
    );
    await pool.broadcast(() => ({ type: "sym-finish" }));
    const merged = mergeSortedLists(
      heaps.map((h) => [new Int32Array(h.idx), new Float32Array(h.sim)]),
      n,
      k,
    );
    return { n, k, ...merged };
  }
}
