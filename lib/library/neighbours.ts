/**
 * The kNN stage of the library: each clusterable face's k nearest clusterable faces, kept
 * in the store. The first time, one search over all faces (the kNN backend: exact up to
 * 20,000 faces, an inverted file above); after that only the new faces are searched against
 * all, and the stored lists are updated from the same products (similarity is symmetric), so
 * a re-run costs O(new × all), not a full search.
 * Lists that lost a neighbour (a photo gone, a face marked not a face) are searched again.
 *
 * @module
 */

import type { KnnBackend, KnnGraph } from "../knn/types.ts";
import { CpuKnn, EXACT_UP_TO } from "../knn/cpu.ts";
import { DotKernel } from "../knn/cpu_kernel.ts";
import { IVF_BLOCK, type KeptOffers, newRowsAgainstAll } from "../knn/ivf_kernel.ts";
import { Pool } from "../knn/pool.ts";
import type { LibraryStore, NeighbourList } from "./store.ts";

/** What {@link updateNeighbours} did. */
export interface NeighbourSummary {
  /** Faces in the graph. */
  faces: number;
  /** Faces searched against all (new, or whose list lost a neighbour). */
  searched: number;
  /** Whether every list was computed afresh. */
  full: boolean;
  /** kNN backend used. */
  backend: string;
  /** Seconds. */
  seconds: number;
}

/** Rows of `ids` (increasing face ids) by face id: −1 for a face not among them. */
function rowLookup(ids: number[]): (id: number) => number {
  const max = ids.length ? ids[ids.length - 1] : 0;
  const table = new Int32Array(max + 1).fill(-1);
  ids.forEach((id, r) => (table[id] = r));
  return (id) => (id >= 0 && id <= max ? table[id] : -1);
}

/**
 * Offers neighbour `c` at similarity `sim` to row `r`'s sorted list (decreasing similarity,
 * ties by increasing row) in the flat arrays; returns whether it entered.
 */
function offerSorted(
  idx: Int32Array,
  sims: Float32Array,
  len: Int32Array,
  k: number,
  r: number,
  c: number,
  sim: number,
): boolean {
  const b = r * k;
  let n = len[r];
  if (n === k) {
    const ls = sims[b + n - 1];
    if (sim < ls || (sim === ls && c > idx[b + n - 1])) return false;
    n--;
  }
  let p = n;
  while (p > 0 && (sims[b + p - 1] < sim || (sims[b + p - 1] === sim && idx[b + p - 1] > c))) {
    idx[b + p] = idx[b + p - 1];
    sims[b + p] = sims[b + p - 1];
    p--;
  }
  idx[b + p] = c;
  sims[b + p] = sim;
  len[r] = n + 1;
  return true;
}

/** The rows' lists in the store's form (face ids). */
function storedLists(
  rows: Iterable<number>,
  ids: number[],
  idx: Int32Array,
  sims: Float32Array,
  len: Int32Array,
  k: number,
): NeighbourList[] {
  const out: NeighbourList[] = [];
  for (const r of rows) {
    const m = len[r];
    const l = new Int32Array(m);
    for (let t = 0; t < m; t++) l[t] = ids[idx[r * k + t]];
    out.push({ faceId: ids[r], ids: l, sims: sims.slice(r * k, r * k + m) });
  }
  return out;
}

/**
 * Brings the stored neighbour lists up to date with the clusterable faces `ids` (in
 * increasing order) whose unit vectors are `vectors`. The lists are held in flat typed
 * arrays (n × k row numbers and similarities, 8 bytes a slot): at 1M faces and k 80 that is
 * 640 MB, where lists of JavaScript numbers took several times more.
 *
 * A full search runs when fewer than half the lists can be kept, or when the new faces are
 * so many that searching them against all costs more than a full search (more than 12·√n
 * of them above the exact search's size, where the full search is the inverted file's
 * ≈ 12·n·√n products); else the new faces (and lists that lost a neighbour) are searched
 * against all exactly, and the same products update the kept lists.
 *
 * @param store The library.
 * @param ids The faces in the graph, increasing.
 * @param vectors Their vectors, `ids.length × dims`.
 * @param dims Vector length.
 * @param k Neighbours per face (the face itself included).
 * @param knn The backend of a full search. @default CpuKnn
 * @param linkSim The link threshold (an approximate full search spends its effort there).
 * @returns What was searched, and the graph over the rows of `ids`.
 *
 * @example
 * ```ts ignore
 * const { summary, graph } = await updateNeighbours(store, ids, vectors, 128, 80);
 * console.log(summary.searched, summary.full, graph.n);
 * ```
 */
export async function updateNeighbours(
  store: LibraryStore,
  ids: number[],
  vectors: Float32Array,
  dims: number,
  k: number,
  knn?: KnnBackend,
  linkSim?: number,
): Promise<{ summary: NeighbourSummary; graph: KnnGraph }> {
  const t0 = performance.now();
  const n = ids.length;
  const rowOf = rowLookup(ids);
  const kk = Math.min(k, n);
  const storedK = Number(await store.setting("knn_k") ?? "0");
  const stored = storedK === k ? await store.neighbours() : [];
  const idx = new Int32Array(n * kk).fill(-1);
  const sims = new Float32Array(n * kk).fill(-Infinity);
  const len = new Int32Array(n);
  const kept = new Uint8Array(n), stale = new Uint8Array(n);
  const remove: number[] = [];
  let keptCount = 0;
  for (const l of stored) {
    const r = rowOf(l.faceId);
    if (r < 0) {
      remove.push(l.faceId);
      continue;
    }
    let complete = l.ids.length <= kk;
    for (let t = 0; t < l.ids.length && complete; t++) complete = rowOf(l.ids[t]) >= 0;
    if (!complete) {
      stale[r] = 1;
      continue;
    }
    for (let t = 0; t < l.ids.length; t++) {
      idx[r * kk + t] = rowOf(l.ids[t]);
      sims[r * kk + t] = l.sims[t];
    }
    len[r] = l.ids.length;
    kept[r] = 1;
    keptCount++;
  }
  if (storedK !== k) { for (const l of stored) remove.push(l.faceId); }
  const fresh: number[] = [], queries: number[] = [];
  for (let r = 0; r < n; r++) if (!kept[r] && !stale[r]) fresh.push(r);
  for (const q of fresh) queries.push(q); // a spread of 1M arguments overflows the stack
  for (let r = 0; r < n; r++) if (stale[r]) queries.push(r);
  const incrementalBest = n <= EXACT_UP_TO ? true : queries.length < 12 * Math.sqrt(n);
  if (keptCount < n / 2 || !incrementalBest) {
    const backend = knn ?? new CpuKnn();
    const g = await backend.search({ rows: n, cols: dims, data: vectors }, kk, { linkSim });
    const all = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      let m = 0;
      while (m < kk && g.indices[r * kk + m] >= 0) m++;
      all[r] = m;
    }
    await store.putNeighbours(
      storedLists(Array.from({ length: n }, (_, r) => r), ids, g.indices, g.similarities, all, kk),
      remove,
    );
    await store.setSetting("knn_k", String(k));
    const seconds = (performance.now() - t0) / 1000;
    return {
      summary: { faces: n, searched: n, full: true, backend: backend.name, seconds },
      graph: { n, k: kk, indices: g.indices, similarities: g.similarities },
    };
  }
  // new faces against all (their products also update the kept lists); stale lists anew
  const changed = await searchNew(
    vectors,
    n,
    dims,
    kk,
    fresh.length,
    queries,
    idx,
    sims,
    len,
    kept,
  );
  for (const r of queries) changed.add(r);
  await store.putNeighbours(storedLists(changed, ids, idx, sims, len, kk), remove);
  await store.setSetting("knn_k", String(k));
  return {
    summary: {
      faces: n,
      searched: queries.length,
      full: false,
      backend: "incremental (wasm simd)",
      seconds: (performance.now() - t0) / 1000,
    },
    graph: { n, k: kk, indices: idx, similarities: sims },
  };
}

/** Multiply-adds above which the new faces are searched in the kNN workers. */
const POOL_WORK = 2e8;

/** New faces per worker job. */
const POOL_QUERIES = 256;

/**
 * The rows `queries` (the first `freshCount` of them new faces, then stale lists) searched
 * against all, exactly, into their lists; the products of a new face that may enter a kept
 * list (at or above that list's last similarity) are offered to it afterwards, in any order
 * (a list's top k does not depend on the order of offers). Above {@link POOL_WORK}
 * multiply-adds the queries are split over the kNN workers; else one call on this thread.
 *
 * @returns The kept rows whose lists changed.
 */
async function searchNew(
  vectors: Float32Array,
  n: number,
  dims: number,
  kk: number,
  freshCount: number,
  queries: number[],
  idx: Int32Array,
  sims: Float32Array,
  len: Int32Array,
  kept: Uint8Array,
): Promise<Set<number>> {
  const m = queries.length;
  const inWorkers = m * n * dims >= POOL_WORK;
  const buffer = (bytes: number) =>
    inWorkers ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  const rows = buffer(m * 4);
  new Int32Array(rows).set(queries);
  const threshold = buffer(n * 4);
  const thr = new Float32Array(threshold);
  for (let c = 0; c < n; c++) {
    thr[c] = !kept[c] ? Infinity : len[c] < kk ? -Infinity : sims[c * kk + kk - 1];
  }
  const qIdx = buffer(m * kk * 4), qSim = buffer(m * kk * 4);
  let results: KeptOffers[];
  if (!inWorkers) {
    results = [
      newRowsAgainstAll(
        new DotKernel(dims, IVF_BLOCK),
        vectors,
        n,
        new Int32Array(rows),
        0,
        m,
        kk,
        new Int32Array(qIdx),
        new Float32Array(qSim),
        thr,
        freshCount,
      ),
    ];
  } else {
    // the workers share the rows (this thread reads them where they are)
    const data = new SharedArrayBuffer(n * dims * 4);
    new Float32Array(data).set(vectors.subarray(0, n * dims));
    const jobs = [];
    for (let s = 0; s < m; s += POOL_QUERIES) {
      jobs.push({
        type: "new-rows",
        data,
        n,
        d: dims,
        k: kk,
        rows,
        from: s,
        to: Math.min(m, s + POOL_QUERIES),
        idx: qIdx,
        sim: qSim,
        threshold,
        fresh: freshCount,
      });
    }
    const pool = new Pool(Math.min(navigator.hardwareConcurrency ?? 1, jobs.length));
    try {
      results = await pool.queue(jobs) as KeptOffers[];
    } finally {
      pool.terminate();
    }
  }
  const changed = new Set<number>();
  for (const r of results) {
    for (let t = 0; t < r.rows.length; t++) {
      if (offerSorted(idx, sims, len, kk, r.rows[t], r.from[t], r.sims[t])) changed.add(r.rows[t]);
    }
  }
  const gi = new Int32Array(qIdx), gs = new Float32Array(qSim);
  queries.forEach((r, a) => {
    let c = 0;
    while (c < kk && gi[a * kk + c] >= 0) c++;
    idx.set(gi.subarray(a * kk, a * kk + kk), r * kk);
    sims.set(gs.subarray(a * kk, a * kk + kk), r * kk);
    len[r] = c;
  });
  return changed;
}

/**
 * The stored lists as a kNN graph over rows of `ids` (neighbours outside `ids` left out).
 *
 * @param lists The stored lists.
 * @param ids The faces in the graph, increasing.
 * @param k Neighbours per row.
 * @returns Row-major indices (−1 for empty slots) and similarities.
 *
 * @example
 * ```ts
 * import { graphOfLists } from "./neighbours.ts";
 * const g = graphOfLists([{ faceId: 7, ids: new Int32Array([7, 9]), sims: new Float32Array([1, 0.8]) }], [7, 9], 2);
 * console.log(g.indices); // Int32Array(4) [0, 1, -1, -1]
 * ```
 */
export function graphOfLists(
  lists: NeighbourList[],
  ids: number[],
  k: number,
): { n: number; k: number; indices: Int32Array; similarities: Float32Array } {
  const n = ids.length;
  const row = new Map(ids.map((id, i) => [id, i]));
  const indices = new Int32Array(n * k).fill(-1);
  const similarities = new Float32Array(n * k).fill(-Infinity);
  for (const l of lists) {
    const r = row.get(l.faceId);
    if (r === undefined) continue;
    let t = 0;
    for (let j = 0; j < l.ids.length && t < k; j++) {
      const c = row.get(l.ids[j]);
      if (c === undefined) continue;
      indices[r * k + t] = c;
      similarities[r * k + t++] = l.sims[j];
    }
  }
  return { n, k, indices, similarities };
}
