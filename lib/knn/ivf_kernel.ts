/**
 * The work of the approximate (IVF) kNN path, run in the kNN workers or inline: the nearest
 * centroids of a range of rows ({@link assignNearest}), the top-k of every row over the
 * inverted lists it probes ({@link IvfProbeTopK}), and the exact top-k of some rows against all
 * ({@link newRowsAgainstAll}: a sample for the recall report; the library's new faces, with what
 * they offer to the kept lists). The rows stay in their own
 * order; a list is a run of positions in `order`.
 *
 * @module
 */

import { DotKernel, RowHeaps } from "./cpu_kernel.ts";

/** Rows per kernel slot in the IVF path (lists hold a few hundred rows). */
export const IVF_BLOCK = 256;

/**
 * Writes, for rows `[rowStart, rowEnd)` of `data`, the indices of the `probes` centroids
 * with the largest inner products, best first (ties: the lower index), into
 * `labels[row * probes]`, …: with `probes` 1, each row's nearest centroid.
 *
 * @param kernel A kernel for the rows' dimension.
 * @param data Rows, row-major.
 * @param rowStart First row.
 * @param rowEnd One past the last row.
 * @param centroids Centroids, row-major, same dimension.
 * @param count Number of centroids (at least `probes`).
 * @param labels Receives `probes` centroids per row (indexed by row).
 * @param probes Centroids kept per row. @default 1
 *
 * @example
 * ```ts
 * import { assignNearest, IVF_BLOCK } from "./ivf_kernel.ts";
 * import { DotKernel } from "./cpu_kernel.ts";
 * const labels = new Int32Array(2);
 * assignNearest(new DotKernel(2, IVF_BLOCK), new Float32Array([1, 0, 0, 1]), 0, 2,
 *   new Float32Array([0, 1, 1, 0]), 2, labels);
 * console.log(labels); // Int32Array [1, 0]
 * ```
 */
export function assignNearest(
  kernel: DotKernel,
  data: Float32Array,
  rowStart: number,
  rowEnd: number,
  centroids: Float32Array,
  count: number,
  labels: Int32Array,
  probes = 1,
): void {
  const B = kernel.block, P = probes;
  const bs = new Float32Array(B * P), bi = new Int32Array(B * P);
  for (let r0 = rowStart; r0 < rowEnd; r0 += B) {
    const nr = Math.min(B, rowEnd - r0);
    kernel.load(0, data, r0, nr);
    bs.fill(-Infinity);
    bi.fill(-1);
    for (let c0 = 0; c0 < count; c0 += B) {
      const nc = Math.min(B, count - c0);
      kernel.load(1, centroids, c0, nc);
      const { tile, stride } = kernel.tile(nr, nc);
      for (let r = 0; r < nr; r++) {
        const tb = r * stride, pb = r * P;
        let worst = bs[pb + P - 1];
        for (let c = 0; c < nc; c++) {
          const v = tile[tb + c];
          if (!(v > worst)) continue;
          // insertion into the row's sorted best P (later centroids lose ties)
          let t = pb + P - 1;
          while (t > pb && bs[t - 1] < v) {
            bs[t] = bs[t - 1];
            bi[t] = bi[t - 1];
            t--;
          }
          bs[t] = v;
          bi[t] = c0 + c;
          worst = bs[pb + P - 1];
        }
      }
    }
    labels.set(bi.subarray(0, nr * P), r0 * P);
  }
}

/**
 * The top-k of every row over the inverted lists it probes, the lists processed one at a
 * time: list M's rows are compared with every row that probes M, as blocks of dot products,
 * and offered to the probing rows' heaps. Heaps and neighbours are by row.
 *
 * @example
 * ```ts
 * import { IvfProbeTopK } from "./ivf_kernel.ts";
 * import { RowHeaps } from "./cpu_kernel.ts";
 * // list 0 holds rows 0 and 2, list 1 row 1; every row probes both lists
 * const data = new Float32Array([1, 0, 0, 1, 0.6, 0.8]);
 * const t = new IvfProbeTopK(data, 2, new Int32Array([0, 2, 1]), new Int32Array([0, 2, 3]),
 *   new Int32Array([0, 1, 2, 0, 1, 2]), new Int32Array([0, 3, 6]), new RowHeaps(3, 2));
 * t.processList(0);
 * t.processList(1);
 * console.log(t.heaps.len); // Int32Array [2, 2, 2]
 * ```
 */
export class IvfProbeTopK {
  #kernel: DotKernel;
  #data: Float32Array;
  #order: Int32Array;
  #offsets: Int32Array;
  #queries: Int32Array;
  #queryOffsets: Int32Array;
  /** Heaps by row. */
  readonly heaps: RowHeaps;

  /**
   * @param data Rows, row-major.
   * @param d Dimension.
   * @param order Rows by list: list M holds `order[offsets[M]]`, …, `order[offsets[M+1]-1]`.
   * @param offsets List starts in `order`, one more than the number of lists.
   * @param queries For each list M, the rows that probe it.
   * @param queryOffsets Starts of each list's probing rows, one more than the number of lists.
   * @param heaps Heaps for all rows.
   */
  constructor(
    data: Float32Array,
    d: number,
    order: Int32Array,
    offsets: Int32Array,
    queries: Int32Array,
    queryOffsets: Int32Array,
    heaps: RowHeaps,
  ) {
    this.#kernel = new DotKernel(d, IVF_BLOCK);
    this.#data = data;
    this.#order = order;
    this.#offsets = offsets;
    this.#queries = queries;
    this.#queryOffsets = queryOffsets;
    this.heaps = heaps;
  }

  /**
   * Compares list M's rows with the rows that probe M.
   *
   * @param list The list M.
   */
  processList(list: number): void {
    const kern = this.#kernel, B = kern.block, h = this.heaps;
    const q = this.#queries, order = this.#order;
    const rootSim = h.rootSim, rootIdx = h.rootIdx;
    const q1 = this.#queryOffsets[list + 1], c1 = this.#offsets[list + 1];
    for (let qi = this.#queryOffsets[list]; qi < q1; qi += B) {
      const nq = Math.min(B, q1 - qi);
      kern.loadOrdered(0, this.#data, q, qi, nq);
      for (let cj = this.#offsets[list]; cj < c1; cj += B) {
        const nc = Math.min(B, c1 - cj);
        kern.loadOrdered(1, this.#data, order, cj, nc);
        const { tile, stride } = kern.tile(nq, nc);
        for (let r = 0; r < nq; r++) {
          const row = q[qi + r], tb = r * stride;
          let thr = rootSim[row];
          for (let c = 0; c < nc; c++) {
            const s = tile[tb + c];
            if (s < thr) continue;
            const id = order[cj + c];
            if (s === thr && id > rootIdx[row]) continue;
            h.push(row, s, id);
            thr = rootSim[row];
          }
        }
      }
    }
  }
}

/** The pairs a search of new rows offers to kept lists: list row, new row, similarity. */
export interface KeptOffers {
  /** The kept lists' rows. */
  rows: Int32Array;
  /** The new rows offered to them. */
  from: Int32Array;
  /** Their similarities. */
  sims: Float32Array;
}

/**
 * The exact top-k of the query rows `rows[from]`, …, `rows[to-1]` against all `n` rows
 * (written sorted into `outIdx`/`outSim` at `t * k` for `rows[t]`, so that jobs over parts of
 * `rows` can share one output), and, for the queries before `fresh` in `rows` (new rows), the pairs
 * to offer to the other rows' kept lists: every product at or above that row's threshold
 * `threshold[c]` (its list's last similarity when full, −∞ when not, +∞ for a row whose list
 * is not kept).
 *
 * @param kernel A kernel for the rows' dimension.
 * @param data All rows, row-major.
 * @param n Number of rows.
 * @param rows The query rows.
 * @param from First query in `rows`.
 * @param to One past the last query.
 * @param k Neighbours per row.
 * @param outIdx Receives the queries' indices at `t * k` for `rows[t]`.
 * @param outSim Receives their similarities.
 * @param threshold Per row, the smallest similarity its kept list may take.
 * @param fresh Queries in `rows` before this position are new rows.
 * @returns The pairs for the kept lists.
 *
 * @example
 * ```ts
 * import { IVF_BLOCK, newRowsAgainstAll } from "./ivf_kernel.ts";
 * import { DotKernel } from "./cpu_kernel.ts";
 * const idx = new Int32Array(2), sim = new Float32Array(2);
 * // row 2 is new; rows 0 and 1 keep lists whose last similarity is 0.5
 * const offers = newRowsAgainstAll(new DotKernel(2, IVF_BLOCK),
 *   new Float32Array([1, 0, 0, 1, 0.6, 0.8]), 3, new Int32Array([2]), 0, 1, 2, idx, sim,
 *   new Float32Array([0.5, 0.5, Infinity]), 1);
 * console.log(offers.rows); // Int32Array [0, 1]
 * ```
 */
export function newRowsAgainstAll(
  kernel: DotKernel,
  data: Float32Array,
  n: number,
  rows: Int32Array,
  from: number,
  to: number,
  k: number,
  outIdx: Int32Array,
  outSim: Float32Array,
  threshold: Float32Array,
  fresh: number,
): KeptOffers {
  const B = kernel.block;
  const heaps = new RowHeaps(B, k);
  const oc: number[] = [], or: number[] = [], os: number[] = [];
  for (let q0 = from; q0 < to; q0 += B) {
    const nq = Math.min(B, to - q0);
    kernel.loadOrdered(0, data, rows, q0, nq);
    heaps.len.fill(0);
    heaps.rootSim.fill(-Infinity);
    heaps.rootIdx.fill(-1);
    for (let c0 = 0; c0 < n; c0 += B) {
      const nc = Math.min(B, n - c0);
      kernel.load(1, data, c0, nc);
      const { tile, stride } = kernel.tile(nq, nc);
      heaps.offerTile(tile, stride, nq, nc, 0, c0, 0, false);
      for (let a = 0; a < nq && q0 + a < fresh; a++) {
        const r = rows[q0 + a], tb = a * stride;
        for (let b = 0; b < nc; b++) {
          const s = tile[tb + b];
          if (s >= threshold[c0 + b]) {
            oc.push(c0 + b);
            or.push(r);
            os.push(s);
          }
        }
      }
    }
    for (let r = 0; r < nq; r++) heaps.writeSorted(r, (q0 + r) * k, outIdx, outSim);
  }
  return { rows: Int32Array.from(oc), from: Int32Array.from(or), sims: Float32Array.from(os) };
}
