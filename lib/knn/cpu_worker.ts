/**
 * Worker side of the CPU kNN path. Messages:
 * - `rows`: search a range of query rows into the shared output (the row-range path);
 * - `sym-init`, `sym-block`, `sym-finish`: the symmetric path with this worker's own
 *   heaps for all rows in shared buffers, sorted in place at the end;
 * - `assign`: the nearest centroid of a range of rows (the IVF path's k-means and lists);
 * - `ivf-init`, `ivf-list`, `ivf-finish`: the IVF path's lists against the rows that probe
 *   them, with this worker's own heaps for all rows, sorted in place at the end;
 * - `new-rows`: some rows against all, exactly (the recall report's sample; the library's new
 *   faces, with the pairs they offer to kept lists, sent back with the answer).
 * Each is answered with `{ done: id }` or `{ error }`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { DotKernel, RowHeaps, SymmetricTopK, TopKSearcher } from "./cpu_kernel.ts";
import { assignNearest, IVF_BLOCK, IvfProbeTopK, newRowsAgainstAll } from "./ivf_kernel.ts";

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
  | { type: "sym-finish"; id: number }
  | {
    type: "assign";
    id: number;
    data: SharedArrayBuffer;
    d: number;
    rowStart: number;
    rowEnd: number;
    centroids: SharedArrayBuffer;
    count: number;
    labels: SharedArrayBuffer;
    probes: number;
  }
  | {
    type: "ivf-init";
    id: number;
    data: SharedArrayBuffer;
    d: number;
    n: number;
    k: number;
    order: SharedArrayBuffer;
    offsets: SharedArrayBuffer;
    queries: SharedArrayBuffer;
    queryOffsets: SharedArrayBuffer;
    idx: SharedArrayBuffer;
    sim: SharedArrayBuffer;
    len: SharedArrayBuffer;
    floor: number;
  }
  | { type: "ivf-list"; id: number; list: number }
  | { type: "ivf-finish"; id: number }
  | {
    type: "new-rows";
    id: number;
    data: SharedArrayBuffer;
    n: number;
    d: number;
    k: number;
    rows: SharedArrayBuffer;
    from: number;
    to: number;
    idx: SharedArrayBuffer;
    sim: SharedArrayBuffer;
    threshold: SharedArrayBuffer;
    fresh: number;
  };

let searcher: TopKSearcher | null = null;
let searcherD = -1;
let sym: SymmetricTopK | null = null;
let ivf: IvfProbeTopK | null = null;
let kernel: DotKernel | null = null;

/** A kernel of IVF_BLOCK rows a slot for dimension `d`, kept between jobs. */
function kernelFor(d: number): DotKernel {
  if (!kernel || kernel.d !== d) kernel = new DotKernel(d, IVF_BLOCK);
  return kernel;
}

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
    } else if (j.type === "sym-finish") {
      sym!.writeSorted(sym!.heaps.idx, sym!.heaps.sim);
      sym = null;
    } else if (j.type === "assign") {
      assignNearest(
        kernelFor(j.d),
        new Float32Array(j.data),
        j.rowStart,
        j.rowEnd,
        new Float32Array(j.centroids),
        j.count,
        new Int32Array(j.labels),
        j.probes,
      );
    } else if (j.type === "ivf-init") {
      const heaps = new RowHeaps(
        j.n,
        j.k,
        new Float32Array(j.sim),
        new Int32Array(j.idx),
        new Int32Array(j.len),
      );
      heaps.rootSim.fill(j.floor);
      ivf = new IvfProbeTopK(
        new Float32Array(j.data),
        j.d,
        new Int32Array(j.order),
        new Int32Array(j.offsets),
        new Int32Array(j.queries),
        new Int32Array(j.queryOffsets),
        heaps,
      );
    } else if (j.type === "ivf-list") {
      ivf!.processList(j.list);
    } else if (j.type === "ivf-finish") {
      const h = ivf!.heaps;
      for (let r = 0; r < h.len.length; r++) h.writeSorted(r, r * h.k, h.idx, h.sim);
      ivf = null;
    } else if (j.type === "new-rows") {
      const offers = newRowsAgainstAll(
        kernelFor(j.d),
        new Float32Array(j.data),
        j.n,
        new Int32Array(j.rows),
        j.from,
        j.to,
        j.k,
        new Int32Array(j.idx),
        new Float32Array(j.sim),
        new Float32Array(j.threshold),
        j.fresh,
      );
      self.postMessage({ done: j.id, result: offers }, [
        offers.rows.buffer as ArrayBuffer,
        offers.from.buffer as ArrayBuffer,
        offers.sims.buffer as ArrayBuffer,
      ]);
      return;
    }
    self.postMessage({ done: j.id });
  } catch (err) {
    self.postMessage({ error: String((err as Error)?.stack ?? err), id: j.id });
  }
};
