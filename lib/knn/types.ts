/**
 * The k-nearest-neighbour interface that the CPU and GPU paths implement.
 *
 * @module
 */

import type { Matrix } from "../io/npy.ts";

/**
 * Each row's k nearest rows by cosine similarity (the row itself included, as faiss
 * returns it), in decreasing similarity. Slots past the number of rows hold index −1.
 */
export interface KnnGraph {
  /** Number of rows. */
  n: number;
  /** Neighbours per row. */
  k: number;
  /** `n * k` neighbour indices, row-major. */
  indices: Int32Array;
  /** `n * k` similarities, row-major, decreasing within a row. */
  similarities: Float32Array;
  /** True when the lists come from an approximate search (they may miss neighbours). */
  approximate?: boolean;
}

/** Options of a kNN search. */
export interface KnnSearchOptions {
  /** Stops the search early with an `AbortError`. */
  signal?: AbortSignal;
  /**
   * Neighbours below this similarity may be left out (index −1): the link rule never
   * uses them, and the GPU path skips them while it searches.
   */
  minSim?: number;
  /**
   * The link rule's threshold when no neighbour may be left out (`minSim` unset): an
   * approximate search spends its extra effort on the neighbours at or above it.
   */
  linkSim?: number;
}

/**
 * An exact kNN search over L2-normalised rows.
 *
 * @example
 * ```ts ignore
 * import type { KnnBackend } from "./types.ts";
 * async function run(b: KnnBackend, m: import("../io/npy.ts").Matrix) {
 *   const g = await b.search(m, 10);
 *   console.log(b.name, g.indices[0]);
 * }
 * ```
 */
export interface KnnBackend {
  /** What does the work, e.g. "cpu (2 workers)" or the GPU adapter's name. */
  readonly name: string;
  /**
   * Finds each row's k nearest rows.
   *
   * @param vectors L2-normalised rows.
   * @param k Neighbours per row (k ≥ 1).
   * @param options Abort signal.
   * @returns The neighbours.
   */
  search(vectors: Matrix, k: number, options?: KnnSearchOptions): Promise<KnnGraph>;
}
