/**
 * Worker side of the CPU kNN path. Messages:
 * - `rows`: search a range of query rows into the shared output (the row-range path);
 * - `sym-init`, `sym-block`, `sym-finish`: the symmetric path with this worker's own
 *   heaps for all rows in shared buffers, sorted in place at the end.
 * Each is answered with `{ done: id }` or `{ error }`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { RowHeaps, SymmetricTopK, TopKSearcher } from "./cpu_kernel.ts";

/** A request to the worker. */
type Job =
  | {
    type: "rows";
    id: number;
    data: SharedArrayBuffer;
    idx: SharedArrayBuffer;
    sim: SharedArrayBuffer;
    n: number;
    d: number;
    k: number;
    rowStart: number;
    rowEnd: number;
  }
  | {
    type: "sym-init";
    id: number;
    data: SharedArrayBuffer;
    idx: SharedArrayBuffer;
    sim: SharedArrayBuffer;
    len: SharedArrayBuffer;
    n: number;
    d: number;
    k: number;
  }
  | { type: "sym-block"; id: number; block: number }
  | { type: "sym-finish"; id: number };

let searcher: TopKSearcher | null = null;
let searcherD = -1;
let sym: SymmetricTopK | null = null;

self.onmessage = (e: MessageEvent<Job>) => {
  const j = e.data;
  try {
    if (j.type === "rows") {
      if (!searcher || searcherD !== j.d) {
        searcher = new TopKSearcher(j.d);
        searcherD = j.d;
      }
      searcher.search(
        new Float32Array(j.data),
        j.n,
        j.d,
        j.rowStart,
        j.rowEnd,
        j.k,
        new Int32Array(j.idx),
        new Float32Array(j.sim),
      );
    } else if (j.type === "sym-init") {
      const heaps = new RowHeaps(
        j.n,
        j.k,
        new Float32Array(j.sim),
        new Int32Array(j.idx),
        new Int32Array(j.len),
      );
      sym = new SymmetricTopK(new Float32Array(j.data), j.n, j.d, j.k, heaps);
    } else if (j.type === "sym-block") {
      sym!.processBlock(j.block);
    } else {
      sym!.writeSorted(sym!.heaps.idx, sym!.heaps.sim);
      sym = null;
    }
    self.postMessage({ done: j.id });
  } catch (err) {
    self.postMessage({ error: String((err as Error)?.stack ?? err), id: j.id });
  }
};
