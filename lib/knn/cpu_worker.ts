/**
 * Worker side of the CPU kNN path: searches the row ranges it is sent over shared
 * buffers and answers each with `{ done: chunkId }`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { TopKSearcher } from "./cpu_kernel.ts";

/** A request to the worker. */
interface Job {
  data: SharedArrayBuffer;
  idx: SharedArrayBuffer;
  sim: SharedArrayBuffer;
  n: number;
  d: number;
  k: number;
  rowStart: number;
  rowEnd: number;
  chunk: number;
}

let searcher: TopKSearcher | null = null;
let searcherD = -1;

self.onmessage = (e: MessageEvent<Job>) => {
  const j = e.data;
  try {
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
    self.postMessage({ done: j.chunk });
  } catch (err) {
    self.postMessage({ error: String((err as Error)?.stack ?? err), chunk: j.chunk });
  }
};
