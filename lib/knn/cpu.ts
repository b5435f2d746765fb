/**
 * The CPU kNN path: exact, blocked SIMD dot products in WebAssembly, spread over Deno
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
import { Pool } from "./pool.ts";
import type { KnnBackend, KnnGraph, KnnSearchOptions } from "./types.ts";

/** Options of {@link CpuKnn}. */
export interface CpuKnnOptions {
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
