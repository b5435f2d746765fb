/**
 * The kNN stage of the library: each clusterable face's k nearest clusterable faces, kept
 * in the store. The first time, one exact search over all faces (the kNN backend); after
 * that only the new faces are searched against all, and the stored lists are updated from
 * the same products (similarity is symmetric), so a re-run costs O(new × all), not O(all²).
 * Lists that lost a neighbour (a photo gone, a face marked not a face) are searched again.
 *
 * @module
 */

import type { KnnBackend } from "../knn/types.ts";
import { CpuKnn } from "../knn/cpu.ts";
import { DotKernel, ROW_BLOCK } from "../knn/cpu_kernel.ts";
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

/** One row's sorted list, growing up to k. */
class TopList {
  ids: number[] = [];
  sims: number[] = [];
  constructor(readonly k: number) {}

  /** Offers a neighbour; keeps decreasing similarity, ties by increasing id. */
  offer(id: number, sim: number): boolean {
    const n = this.ids.length;
    if (n === this.k) {
      const ls = this.sims[n - 1];
      if (sim < ls || (sim === ls && id > this.ids[n - 1])) return false;
    }
    let p = n;
    while (
      p > 0 && (this.sims[p - 1] < sim || (this.sims[p - 1] === sim && this.ids[p - 1] > id))
    ) {
      p--;
    }
    this.ids.splice(p, 0, id);
    this.sims.splice(p, 0, sim);
    if (this.ids.length > this.k) {
      this.ids.pop();
      this.sims.pop();
    }
    return true;
  }

  toList(faceId: number): NeighbourList {
    return { faceId, ids: Int32Array.from(this.ids), sims: Float32Array.from(this.sims) };
  }
}

/**
 * Brings the stored neighbour lists up to date with the clusterable faces `ids` (in
 * increasing order) whose unit vectors are `vectors`.
 *
 * @param store The library.
 * @param ids The faces in the graph, increasing.
 * @param vectors Their vectors, `ids.length × dims`.
 * @param dims Vector length.
 * @param k Neighbours per face (the face itself included).
 * @param knn The backend of a full search. @default CpuKnn
 * @param linkSim The link threshold (an approximate full search spends its effort there).
 * @returns What was searched, and every list now (as stored).
 *
 * @example
 * ```ts ignore
 * const { summary, lists } = await updateNeighbours(store, ids, vectors, 128, 80);
 * console.log(summary.searched, summary.full, lists.length);
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
): Promise<{ summary: NeighbourSummary; lists: NeighbourList[] }> {
  const t0 = performance.now();
  const n = ids.length;
  const row = new Map(ids.map((id, i) => [id, i]));
  const kk = Math.min(k, n);
  const storedK = Number(await store.setting("knn_k") ?? "0");
  const stored = storedK === k ? await store.neighbours() : [];
  const lists = new Map<number, TopList>(); // by row
  const remove: number[] = [];
  const stale = new Set<number>(); // rows to search against all
  for (const l of stored) {
    const r = row.get(l.faceId);
    if (r === undefined) {
      remove.push(l.faceId);
      continue;
    }
    let complete = true;
    for (const id of l.ids) if (!row.has(id)) complete = false;
    if (!complete) {
      stale.add(r);
      continue;
    }
    const t = new TopList(kk);
    t.ids = Array.from(l.ids);
    t.sims = Array.from(l.sims);
    lists.set(r, t);
  }
  const fresh: number[] = [];
  for (let r = 0; r < n; r++) if (!lists.has(r) && !stale.has(r)) fresh.push(r);
  if (storedK !== k) remove.push(...stored.map((l) => l.faceId));
  // few lists kept: one exact search over everything
  if (lists.size < n / 2) {
    const backend = knn ?? new CpuKnn();
    const out = await fullSearch(backend, ids, vectors, dims, kk, linkSim);
    await store.putNeighbours(out, remove);
    await store.setSetting("knn_k", String(k));
    const seconds = (performance.now() - t0) / 1000;
    return {
      summary: { faces: n, searched: n, full: true, backend: backend.name, seconds },
      lists: out,
    };
  }
  // new faces against all (their products also update the kept lists); stale lists anew
  const queries = [...fresh, ...stale];
  const { tops, changed } = searchNew(ids, vectors, dims, kk, fresh, queries, lists);
  queries.forEach((r, i) => {
    lists.set(r, tops[i]);
    changed.add(r);
  });
  await store.putNeighbours([...changed].map((r) => lists.get(r)!.toList(ids[r])), remove);
  await store.setSetting("knn_k", String(k));
  return {
    summary: {
      faces: n,
      searched: fresh.length + stale.size,
      full: false,
      backend: "incremental (wasm simd)",
      seconds: (performance.now() - t0) / 1000,
    },
    lists: [...lists].map(([r, t]) => t.toList(ids[r])),
  };
}

/** One exact search of every face against all, as stored lists. */
async function fullSearch(
  backend: KnnBackend,
  ids: number[],
  vectors: Float32Array,
  dims: number,
  kk: number,
  linkSim?: number,
): Promise<NeighbourList[]> {
  const n = ids.length;
  const g = await backend.search({ rows: n, cols: dims, data: vectors }, kk, { linkSim });
  const out: NeighbourList[] = [];
  for (let r = 0; r < n; r++) {
    const t = new TopList(kk);
    for (let j = 0; j < kk; j++) {
      const c = g.indices[r * kk + j];
      if (c >= 0) {
        t.ids.push(ids[c]);
        t.sims.push(g.similarities[r * kk + j]);
      }
    }
    out.push(t.toList(ids[r]));
  }
  return out;
}

/**
 * The rows `queries` (new faces, then stale lists) searched against all with the SIMD
 * kernel; each new face's products are also offered to the kept lists.
 *
 * @returns The queries' lists, and the kept rows whose lists changed.
 */
function searchNew(
  ids: number[],
  vectors: Float32Array,
  dims: number,
  kk: number,
  fresh: number[],
  queries: number[],
  lists: Map<number, TopList>,
): { tops: TopList[]; changed: Set<number> } {
  const n = ids.length;
  const changed = new Set<number>();
  const isFresh = new Uint8Array(n);
  for (const r of fresh) isFresh[r] = 1;
  const q = new Float32Array(queries.length * dims);
  queries.forEach((r, i) => q.set(vectors.subarray(r * dims, (r + 1) * dims), i * dims));
  const tops = queries.map(() => new TopList(kk));
  const kern = new DotKernel(dims, ROW_BLOCK);
  for (let q0 = 0; q0 < queries.length; q0 += ROW_BLOCK) {
    const nq = Math.min(ROW_BLOCK, queries.length - q0);
    kern.load(0, q, q0, nq);
    for (let c0 = 0; c0 < n; c0 += ROW_BLOCK) {
      const nc = Math.min(ROW_BLOCK, n - c0);
      kern.load(1, vectors, c0, nc);
      const { tile, stride } = kern.tile(nq, nc);
      for (let a = 0; a < nq; a++) {
        const r = queries[q0 + a], t = tops[q0 + a], fromNew = isFresh[r] === 1;
        for (let b = 0; b < nc; b++) {
          const c = c0 + b, sim = tile[a * stride + b];
          t.offer(ids[c], sim);
          // a new face is offered to the kept lists (the products are symmetric)
          if (fromNew && !isFresh[c] && lists.get(c)?.offer(ids[r], sim)) changed.add(c);
        }
      }
    }
  }
  return { tops, changed };
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
