/**
 * Approximate kNN for large N on the CPU: an inverted file (IVF) on our own WebAssembly SIMD
 * kernel, searched as faiss's IndexIVFFlat is. Spherical k-means on a sample places `lists`
 * centroids; every row joins the list of its nearest centroid and probes the `probes` lists
 * whose centroids are nearest to it. The work goes list by list: the rows that probe list M
 * against M's rows, as blocks of dot products, so that the kernel runs at its full speed.
 * Cost at N rows of dimension d: N·lists·d multiply-adds to find the lists and about
 * N·probes·(N/lists)·d for the search, so with lists ≈ 4√N it grows as N^1.5, not N².
 * Memory: the rows, one heap of k entries (8 bytes each) per row and worker, and the probes
 * (4 bytes per row and probe).
 *
 * @module
 */

import { InputError } from "../errors.ts";
import type { Matrix } from "../io/npy.ts";
import { Prng } from "../infomap/prng.ts";
import { DotKernel, mergeSortedLists, RowHeaps } from "./cpu_kernel.ts";
import { assignNearest, IVF_BLOCK, IvfProbeTopK } from "./ivf_kernel.ts";
import { Pool } from "./pool.ts";
import type { KnnBackend, KnnGraph, KnnSearchOptions } from "./types.ts";

/** Options of {@link IvfKnn}. */
export interface IvfKnnOptions {
  /** Worker threads; 0 runs on the calling thread. @default navigator.hardwareConcurrency */
  workers?: number;
  /** Inverted lists. @default about 4·√N (at least 1) */
  lists?: number;
  /** Lists each row probes (its nearest centroids). @default 64 */
  probes?: number;
  /** k-means iterations. @default 6 */
  iterations?: number;
  /** Rows k-means trains on. @default min(N, 24 per list) */
  trainRows?: number;
  /** Seed of the sample and the first centroids. @default 1 */
  seed?: number;
}

/** How the IVF search was set up, for reports. */
export interface IvfLayout {
  /** Inverted lists. */
  lists: number;
  /** Lists each row probes. */
  probes: number;
  /** Rows in the largest list. */
  largestList: number;
}

/** Rows per assignment job. */
const ASSIGN_ROWS = 4096;

/** Lists each row probes unless told. */
const DEFAULT_PROBES = 64;

/** Finds the `probes` nearest centroids of `count` rows of `src` into `labels`. */
type Assign = (
  src: SharedArrayBuffer,
  count: number,
  cents: SharedArrayBuffer,
  labels: SharedArrayBuffer,
  probes: number,
) => Promise<void>;

/**
 * Approximate kNN by an inverted file, exact within the pairs of lists it computes.
 *
 * @example
 * ```ts
 * import { IvfKnn } from "./ivf.ts";
 * const data = new Float32Array([1, 0, 0.96, 0.28, 0, 1, 0.28, 0.96]);
 * const g = await new IvfKnn({ workers: 0, lists: 2, probes: 2 }).search(
 *   { rows: 4, cols: 2, data },
 *   2,
 * );
 * console.log(g.indices); // Int32Array(8) [0, 1, 1, 0, 2, 3, 3, 2]
 * ```
 */
export class IvfKnn implements KnnBackend {
  #options: IvfKnnOptions;
  #workers: number;
  /** The layout of the last search. */
  layout: IvfLayout | null = null;

  /**
   * Makes an IVF searcher.
   *
   * @param options Workers, lists, probes and training.
   */
  constructor(options: IvfKnnOptions = {}) {
    this.#options = options;
    this.#workers = Math.max(0, options.workers ?? navigator.hardwareConcurrency ?? 1);
  }

  /** "cpu (ivf …)" with the lists, probes and workers of the last search. */
  get name(): string {
    const l = this.layout;
    const what = l ? `ivf ${l.lists} lists × ${l.probes} probes` : "ivf";
    return `cpu (${what}, wasm simd${this.#workers > 0 ? `, ${this.#workers} workers` : ""})`;
  }

  /**
   * Finds each row's k nearest rows among the rows of the lists it probes.
   *
   * @param vectors L2-normalised rows.
   * @param k Neighbours per row.
   * @param options Abort signal; `minSim` leaves out neighbours below it.
   * @returns The neighbours (marked `approximate`).
   */
  async search(vectors: Matrix, k: number, options: KnnSearchOptions = {}): Promise<KnnGraph> {
    if (!Number.isInteger(k) || k < 1) {
      throw new InputError("k", `must be an integer ≥ 1, got ${k}`);
    }
    const { rows: n, cols: d } = vectors;
    const signal = options.signal;
    signal?.throwIfAborted();
    const o = this.#options;
    const lists = Math.max(1, Math.min(n, o.lists ?? Math.round(4 * Math.sqrt(n))));
    const probes = Math.max(1, Math.min(lists, o.probes ?? DEFAULT_PROBES));
    const data = new SharedArrayBuffer(n * d * 4);
    const rows = new Float32Array(data);
    rows.set(vectors.data.subarray(0, n * d));
    const pool = this.#workers > 0 ? new Pool(this.#workers) : null;
    try {
      const assign: Assign = async (src, count, cents, labels, p) => {
        if (!pool) {
          assignNearest(
            new DotKernel(d, IVF_BLOCK),
            new Float32Array(src),
            0,
            count,
            new Float32Array(cents),
            lists,
            new Int32Array(labels),
            p,
          );
          return;
        }
        const jobs = [];
        for (let s = 0; s < count; s += ASSIGN_ROWS) {
          jobs.push({
            type: "assign",
            data: src,
            d,
            rowStart: s,
            rowEnd: Math.min(count, s + ASSIGN_ROWS),
            centroids: cents,
            count: lists,
            labels,
            probes: p,
          });
        }
        await pool.queue(jobs, signal);
      };
      const centroids = await this.#train(rows, n, d, lists, assign, signal);
      const probeBuf = new SharedArrayBuffer(n * probes * 4);
      await assign(data, n, centroids, probeBuf, probes);
      const probed = new Int32Array(probeBuf);
      const { order, offsets } = groupBy(n, lists, (i) => probed[i * probes], 1);
      const inverse = groupBy(n, lists, (i, t) => probed[i * probes + t], probes);
      let largest = 0;
      for (let l = 0; l < lists; l++) largest = Math.max(largest, offsets[l + 1] - offsets[l]);
      this.layout = { lists, probes, largestList: largest };
      signal?.throwIfAborted();
      const floor = options.minSim === undefined ? -Infinity : Math.fround(options.minSim) - 1e-6;
      // the biggest jobs first, so that no worker is left with a long one at the end
      const cost = (l: number) =>
        (offsets[l + 1] - offsets[l]) * (inverse.offsets[l + 1] - inverse.offsets[l]);
      const jobOrder = Array.from({ length: lists }, (_, l) => l)
        .sort((a, b) => cost(b) - cost(a));
      if (!pool) {
        const heaps = new RowHeaps(n, k);
        heaps.rootSim.fill(floor);
        const t = new IvfProbeTopK(rows, d, order, offsets, inverse.order, inverse.offsets, heaps);
        for (const l of jobOrder) t.processList(l);
        const indices = new Int32Array(n * k), similarities = new Float32Array(n * k);
        for (let r = 0; r < n; r++) heaps.writeSorted(r, r * k, indices, similarities);
        const both = withReverse(indices, similarities, n, k);
        const linkSim = options.minSim ?? options.linkSim;
        if (linkSim !== undefined) viaNeighbours(rows, d, both, n, k, linkSim);
        return { n, k, ...both, approximate: true };
      }
      const share = (a: Int32Array) => {
        const b = new SharedArrayBuffer(a.byteLength);
        new Int32Array(b).set(a);
        return b;
      };
      const shared = {
        order: share(order),
        offsets: share(offsets),
        queries: share(inverse.order),
        queryOffsets: share(inverse.offsets),
      };
      const heaps = Array.from({ length: pool.size }, () => ({
        idx: new SharedArrayBuffer(n * k * 4),
        sim: new SharedArrayBuffer(n * k * 4),
        len: new SharedArrayBuffer(n * 4),
      }));
      await pool.broadcast((w) => ({
        type: "ivf-init",
        data,
        d,
        n,
        k,
        floor,
        ...shared,
        ...heaps[w],
      }));
      await pool.queue(jobOrder.map((list) => ({ type: "ivf-list", list })), signal);
      await pool.broadcast(() => ({ type: "ivf-finish" }));
      const merged = mergeSortedLists(
        heaps.map((h) => [new Int32Array(h.idx), new Float32Array(h.sim)]),
        n,
        k,
      );
      const both = withReverse(merged.indices, merged.similarities, n, k);
      const linkSim = options.minSim ?? options.linkSim;
      if (linkSim !== undefined) viaNeighbours(rows, d, both, n, k, linkSim);
      return { n, k, ...both, approximate: true };
    } finally {
      pool?.terminate();
    }
  }

  /** Spherical k-means on a sample; returns the centroids in a shared buffer. */
  async #train(
    rows: Float32Array,
    n: number,
    d: number,
    lists: number,
    assign: Assign,
    signal?: AbortSignal,
  ): Promise<SharedArrayBuffer> {
    const o = this.#options;
    const rng = new Prng(o.seed ?? 1);
    const m = Math.max(lists, Math.min(n, o.trainRows ?? 24 * lists));
    const pick = sampleRows(n, m, rng);
    const sampleBuf = new SharedArrayBuffer(m * d * 4);
    const sample = new Float32Array(sampleBuf);
    for (let i = 0; i < m; i++) sample.set(rows.subarray(pick[i] * d, pick[i] * d + d), i * d);
    const centBuf = new SharedArrayBuffer(lists * d * 4);
    const cent = new Float32Array(centBuf);
    // the first centroids: distinct sample rows
    cent.set(sample.subarray(0, lists * d));
    const labelBuf = new SharedArrayBuffer(m * 4);
    const label = new Int32Array(labelBuf);
    const sum = new Float64Array(lists * d), size = new Int32Array(lists);
    for (let it = 0; it < (o.iterations ?? 6); it++) {
      signal?.throwIfAborted();
      await assign(sampleBuf, m, centBuf, labelBuf, 1);
      sum.fill(0);
      size.fill(0);
      for (let i = 0; i < m; i++) {
        const c = label[i], sb = c * d, rb = i * d;
        size[c]++;
        for (let x = 0; x < d; x++) sum[sb + x] += sample[rb + x];
      }
      for (let c = 0; c < lists; c++) {
        const sb = c * d;
        if (size[c] === 0) {
          // an empty list restarts at a random sample row
          const r = Math.floor(rng.next() * m) * d;
          for (let x = 0; x < d; x++) cent[sb + x] = sample[r + x];
          continue;
        }
        let norm = 0;
        for (let x = 0; x < d; x++) norm += sum[sb + x] * sum[sb + x];
        const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
        for (let x = 0; x < d; x++) cent[sb + x] = sum[sb + x] * inv;
      }
    }
    return centBuf;
  }
}

/** `m` distinct rows of `n` in random order (all rows, in order, when m ≥ n). */
function sampleRows(n: number, m: number, rng: Prng): Int32Array {
  if (m >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rng.next() * (n - i));
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, m);
}

/**
 * Rows grouped by list (a counting sort) where row i belongs to lists `listOf(i, 0)`, …,
 * `listOf(i, per - 1)`: the rows of list l are `order[offsets[l]]`, …, `order[offsets[l+1]-1]`.
 */
function groupBy(
  n: number,
  lists: number,
  listOf: (row: number, t: number) => number,
  per: number,
): { order: Int32Array; offsets: Int32Array } {
  const offsets = new Int32Array(lists + 1);
  for (let i = 0; i < n; i++) for (let t = 0; t < per; t++) offsets[listOf(i, t) + 1]++;
  for (let l = 0; l < lists; l++) offsets[l + 1] += offsets[l];
  const fill = offsets.slice(0, lists);
  const order = new Int32Array(offsets[lists]);
  for (let i = 0; i < n; i++) for (let t = 0; t < per; t++) order[fill[listOf(i, t)]++] = i;
  return { order, offsets };
}

/**
 * Each row's list completed with the rows that found it: similarity is symmetric, so when
 * row i holds j, j may hold i (a pair is then found when either row probed the other's list).
 * Rows keep their best k, sorted by decreasing similarity, then increasing index.
 */
function withReverse(
  indices: Int32Array,
  similarities: Float32Array,
  n: number,
  k: number,
): { indices: Int32Array; similarities: Float32Array } {
  const start = new Int32Array(n + 1);
  for (let e = 0; e < n * k; e++) {
    const j = indices[e];
    if (j >= 0 && j !== Math.floor(e / k)) start[j + 1]++;
  }
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const from = new Int32Array(start[n]), sim = new Float32Array(start[n]);
  const fill = start.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = indices[i * k + t];
      if (j < 0) break;
      if (j === i) continue;
      from[fill[j]] = i;
      sim[fill[j]++] = similarities[i * k + t];
    }
  }
  const outIdx = new Int32Array(n * k).fill(-1);
  const outSim = new Float32Array(n * k).fill(-Infinity);
  let candIdx = new Int32Array(2 * k), candSim = new Float32Array(2 * k);
  let ord = new Int32Array(2 * k);
  const seen = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const extra = start[i + 1] - start[i];
    if (candIdx.length < k + extra) {
      candIdx = new Int32Array(2 * (k + extra));
      candSim = new Float32Array(2 * (k + extra));
      ord = new Int32Array(2 * (k + extra));
    }
    let m = 0;
    for (let t = 0; t < k; t++) {
      const j = indices[i * k + t];
      if (j < 0) break;
      seen[j] = i;
      candIdx[m] = j;
      candSim[m++] = similarities[i * k + t];
    }
    const own = m;
    for (let e = start[i]; e < start[i + 1]; e++) {
      if (seen[from[e]] === i) continue;
      seen[from[e]] = i;
      candIdx[m] = from[e];
      candSim[m++] = sim[e];
    }
    const o = ord.subarray(0, m);
    for (let t = 0; t < m; t++) o[t] = t;
    if (m > own) o.sort((a, b) => candSim[b] - candSim[a] || candIdx[a] - candIdx[b]);
    const take = Math.min(k, m);
    for (let t = 0; t < take; t++) {
      outIdx[i * k + t] = candIdx[o[t]];
      outSim[i * k + t] = candSim[o[t]];
    }
  }
  return { indices: outIdx, similarities: outSim };
}

/**
 * One pass of "a neighbour's neighbour is a neighbour" for the rows whose links (neighbours
 * at or above `minSim`, the link threshold) do not fill their k slots: such a row's person is small, its faces
 * may sit in lists the row did not probe, and the rows it links reach them. Each candidate
 * not yet in the row's list is compared exactly; those at or above `minSim` join the list
 * (kept sorted, at most k). Rows with full lists (large persons, already found) are left
 * as they are, so the pass costs little.
 */
function viaNeighbours(
  rows: Float32Array,
  d: number,
  graph: { indices: Int32Array; similarities: Float32Array },
  n: number,
  k: number,
  minSim: number,
): void {
  const { indices, similarities } = graph;
  const stamp = new Int32Array(n).fill(-1);
  const candIdx: number[] = [], candSim: number[] = [];
  for (let i = 0; i < n; i++) {
    const b = i * k;
    let links = 0;
    while (links < k && indices[b + links] >= 0 && similarities[b + links] >= minSim) links++;
    if (links === k) continue;
    for (let t = 0; t < links; t++) stamp[indices[b + t]] = i;
    stamp[i] = i;
    candIdx.length = 0;
    candSim.length = 0;
    for (let t = 0; t < links; t++) {
      const j = indices[b + t], jb = j * k;
      for (let u = 0; u < k; u++) {
        const l = indices[jb + u];
        if (l < 0 || similarities[jb + u] < minSim) break;
        if (stamp[l] === i) continue;
        stamp[l] = i;
        let s = 0;
        const ib = i * d, lb = l * d;
        for (let x = 0; x < d; x++) s += rows[ib + x] * rows[lb + x];
        if (s >= minSim) {
          candIdx.push(l);
          candSim.push(s);
        }
      }
    }
    if (candIdx.length === 0) continue;
    const all = [];
    for (let t = 0; t < k && indices[b + t] >= 0; t++) {
      all.push([similarities[b + t], indices[b + t]]);
    }
    for (let c = 0; c < candIdx.length; c++) all.push([Math.fround(candSim[c]), candIdx[c]]);
    all.sort((x, y) => y[0] - x[0] || x[1] - y[1]);
    const take = Math.min(k, all.length);
    for (let t = 0; t < take; t++) {
      similarities[b + t] = all[t][0];
      indices[b + t] = all[t][1];
    }
    for (let t = take; t < k; t++) {
      indices[b + t] = -1;
      similarities[b + t] = -Infinity;
    }
  }
}
