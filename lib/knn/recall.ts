/**
 * How many of the links an approximate kNN search found: the exact top-k of a random sample
 * of rows, the seed's link rule applied to both, and the share of the exact links that the
 * approximate lists hold.
 *
 * @module
 */

import type { Matrix } from "../io/npy.ts";
import { Prng } from "../infomap/prng.ts";
import { DotKernel } from "./cpu_kernel.ts";
import { IVF_BLOCK, newRowsAgainstAll } from "./ivf_kernel.ts";
import { Pool } from "./pool.ts";
import type { KnnGraph } from "./types.ts";

/** Options of {@link linkRecall}. */
export interface LinkRecallOptions {
  /** Rows checked. @default 1000 */
  sample?: number;
  /** Seed of the sample. @default 7 */
  seed?: number;
  /** Worker threads; 0 runs on the calling thread. @default navigator.hardwareConcurrency */
  workers?: number;
}

/** The recall of the links above `min_sim` on a sample of rows. */
export interface LinkRecall {
  /** Rows checked. */
  rows: number;
  /** Links of those rows by exact search. */
  exactLinks: number;
  /** Of them, links the approximate lists hold. */
  found: number;
  /** `found / exactLinks` (1 when there are no exact links). */
  recall: number;
}

/**
 * Measures the recall of the links above `minSim` of `graph` against exact search on a
 * sample of rows.
 *
 * @param vectors The L2-normalised rows the graph was built from.
 * @param graph The (approximate) neighbour lists.
 * @param minSim The link threshold.
 * @param options Sample size, seed and workers.
 * @returns Rows, links and recall.
 *
 * @example
 * ```ts
 * import { linkRecall } from "./recall.ts";
 * const v = { rows: 2, cols: 2, data: new Float32Array([1, 0, 0.8, 0.6]) };
 * const g = { n: 2, k: 2, indices: new Int32Array([0, -1, 1, 0]),
 *   similarities: new Float32Array([1, -Infinity, 1, 0.8]) };
 * console.log((await linkRecall(v, g, 0.5, { workers: 0 })).recall); // 0.5
 * ```
 */
export async function linkRecall(
  vectors: Matrix,
  graph: KnnGraph,
  minSim: number,
  options: LinkRecallOptions = {},
): Promise<LinkRecall> {
  const { rows: n, cols: d } = vectors;
  const k = graph.k;
  const m = Math.min(n, options.sample ?? 1000);
  const rng = new Prng(options.seed ?? 7);
  const chosen = new Set<number>();
  while (chosen.size < m) chosen.add(Math.floor(rng.next() * n));
  const rowsBuf = new SharedArrayBuffer(m * 4);
  const rows = new Int32Array(rowsBuf);
  rows.set(Array.from(chosen).sort((a, b) => a - b));
  const idxBuf = new SharedArrayBuffer(m * k * 4), simBuf = new SharedArrayBuffer(m * k * 4);
  const workers = Math.max(0, options.workers ?? navigator.hardwareConcurrency ?? 1);
  if (workers === 0) {
    newRowsAgainstAll(
      new DotKernel(d, IVF_BLOCK),
      vectors.data,
      n,
      rows,
      0,
      m,
      k,
      new Int32Array(idxBuf),
      new Float32Array(simBuf),
      new Float32Array(0),
      0,
    );
  } else {
    const data = new SharedArrayBuffer(n * d * 4);
    new Float32Array(data).set(vectors.data.subarray(0, n * d));
    const per = Math.ceil(m / workers);
    const pool = new Pool(Math.min(workers, Math.ceil(m / per)));
    try {
      const jobs = [];
      for (let s = 0; s < m; s += per) {
        jobs.push({
          type: "new-rows",
          data,
          n,
          d,
          k,
          rows: rowsBuf,
          from: s,
          to: Math.min(m, s + per),
          idx: idxBuf,
          sim: simBuf,
          // no new rows: only the sample's own lists
          threshold: new SharedArrayBuffer(0),
          fresh: 0,
        });
      }
      await pool.queue(jobs);
    } finally {
      pool.terminate();
    }
  }
  const idx = new Int32Array(idxBuf), sim = new Float32Array(simBuf);
  let exactLinks = 0, found = 0;
  for (let t = 0; t < m; t++) {
    const i = rows[t];
    const have = new Set<number>();
    for (let c = 0; c < k; c++) {
      const j = graph.indices[i * k + c];
      if (j < 0 || graph.similarities[i * k + c] < minSim) break;
      have.add(j);
    }
    for (let c = 0; c < k; c++) {
      const j = idx[t * k + c];
      if (j < 0 || sim[t * k + c] < minSim) break;
      if (j === i) continue;
      exactLinks++;
      if (have.has(j)) found++;
    }
  }
  return { rows: m, exactLinks, found, recall: exactLinks === 0 ? 1 : found / exactLinks };
}
