/**
 * Exact top-k by inner product for a range of rows: blocked SIMD dot products in
 * WebAssembly, a bounded min-heap per row, no N×N matrix.
 *
 * @module
 */

import { DOT_KERNEL_WASM_BASE64 } from "./dot_kernel_wasm.ts";

let compiled: WebAssembly.Module | null = null;

function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    const bin = atob(DOT_KERNEL_WASM_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** Rows of queries per block (a multiple of 4). */
const QUERY_BLOCK = 64;
/** Bytes of candidate rows per block. */
const CANDIDATE_BYTES = 1 << 20;

/**
 * Computes exact top-k neighbours by inner product for rows `[rowStart, rowEnd)` of
 * `data` against all `n` rows, writing them (decreasing similarity, ties by lower index,
 * −1 past `n`) into `outIdx`/`outSim` at row offsets `row * k`.
 *
 * @example
 * ```ts
 * import { TopKSearcher } from "./cpu_kernel.ts";
 * const data = new Float32Array([1, 0, 0, 1, 0.6, 0.8]);
 * const idx = new Int32Array(6), sim = new Float32Array(6);
 * new TopKSearcher(2).search(data, 3, 2, 0, 3, 2, idx, sim);
 * console.log(idx[0], idx[1]); // 0 2
 * ```
 */
export class TopKSearcher {
  #d: number;
  #dPad: number;
  #memory: WebAssembly.Memory;
  #dots: (q: number, nq: number, c: number, nc: number, d: number, out: number) => void;
  #candBlock: number;
  #qOff: number;
  #cOff: number;
  #oOff: number;

  /**
   * @param d Dimension of the rows.
   */
  constructor(d: number) {
    this.#d = d;
    this.#dPad = Math.ceil(d / 4) * 4;
    const rowBytes = this.#dPad * 4;
    this.#candBlock = Math.max(2, Math.floor(CANDIDATE_BYTES / rowBytes) & ~1);
    const inst = new WebAssembly.Instance(kernelModule());
    this.#memory = inst.exports.memory as WebAssembly.Memory;
    this.#dots = inst.exports.dots as (
      q: number,
      nq: number,
      c: number,
      nc: number,
      d: number,
      out: number,
    ) => void;
    this.#qOff = 0;
    this.#cOff = QUERY_BLOCK * rowBytes;
    this.#oOff = this.#cOff + this.#candBlock * rowBytes;
    const need = this.#oOff + QUERY_BLOCK * this.#candBlock * 4;
    const have = this.#memory.buffer.byteLength;
    if (need > have) this.#memory.grow(Math.ceil((need - have) / 65536));
  }

  #copyRows(data: Float32Array, from: number, count: number, padTo: number, off: number): void {
    const d = this.#d, dp = this.#dPad;
    const mem = new Float32Array(this.#memory.buffer, off, padTo * dp);
    if (d === dp) {
      mem.set(data.subarray(from * d, (from + count) * d));
      if (padTo > count) mem.fill(0, count * dp);
    } else {
      mem.fill(0);
      for (let r = 0; r < count; r++) {
        mem.set(data.subarray((from + r) * d, (from + r + 1) * d), r * dp);
      }
    }
  }

  /**
   * Searches rows `[rowStart, rowEnd)`.
   *
   * @param data All rows, row-major, `n * d` values.
   * @param n Number of rows.
   * @param d Dimension (as given to the constructor).
   * @param rowStart First query row.
   * @param rowEnd One past the last query row.
   * @param k Neighbours per row.
   * @param outIdx Receives indices at `row * k`.
   * @param outSim Receives similarities at `row * k`.
   * @param outBase Row written at offset 0 of the outputs (row `r` goes to `(r - outBase) * k`).
   */
  search(
    data: Float32Array,
    n: number,
    d: number,
    rowStart: number,
    rowEnd: number,
    k: number,
    outIdx: Int32Array,
    outSim: Float32Array,
    outBase = 0,
  ): void {
    if (d !== this.#d) throw new Error(`TopKSearcher built for d=${this.#d}, got ${d}`);
    const CB = this.#candBlock;
    const heapSim = new Float32Array(QUERY_BLOCK * k);
    const heapIdx = new Int32Array(QUERY_BLOCK * k);
    const heapLen = new Int32Array(QUERY_BLOCK);
    for (let q0 = rowStart; q0 < rowEnd; q0 += QUERY_BLOCK) {
      const nq = Math.min(QUERY_BLOCK, rowEnd - q0);
      const nqPad = Math.ceil(nq / 4) * 4;
      this.#copyRows(data, q0, nq, nqPad, this.#qOff);
      heapLen.fill(0);
      for (let c0 = 0; c0 < n; c0 += CB) {
        const nc = Math.min(CB, n - c0);
        const ncPad = nc + (nc & 1);
        this.#copyRows(data, c0, nc, ncPad, this.#cOff);
        this.#dots(this.#qOff, nqPad, this.#cOff, ncPad, this.#dPad, this.#oOff);
        const tile = new Float32Array(this.#memory.buffer, this.#oOff, nqPad * ncPad);
        for (let r = 0; r < nq; r++) {
          const hb = r * k;
          let len = heapLen[r];
          let thr = len === k ? heapSim[hb] : -Infinity;
          const tb = r * ncPad;
          for (let j = 0; j < nc; j++) {
            const s = tile[tb + j];
            if (!(s > thr)) continue;
            const id = c0 + j;
            if (len < k) {
              // sift up
              let p = len++;
              while (p > 0) {
                const parent = (p - 1) >> 1;
                const ps = heapSim[hb + parent], pi = heapIdx[hb + parent];
                if (ps < s || (ps === s && pi > id)) break;
                heapSim[hb + p] = ps;
                heapIdx[hb + p] = pi;
                p = parent;
              }
              heapSim[hb + p] = s;
              heapIdx[hb + p] = id;
              if (len === k) thr = heapSim[hb];
            } else {
              // replace the root and sift down
              let p = 0;
              for (;;) {
                let c = 2 * p + 1;
                if (c >= k) break;
                let cs = heapSim[hb + c], ci = heapIdx[hb + c];
                if (c + 1 < k) {
                  const rs = heapSim[hb + c + 1], ri = heapIdx[hb + c + 1];
                  if (rs < cs || (rs === cs && ri > ci)) {
                    c++;
                    cs = rs;
                    ci = ri;
                  }
                }
                if (s < cs || (s === cs && id > ci)) break;
                heapSim[hb + p] = cs;
                heapIdx[hb + p] = ci;
                p = c;
              }
              heapSim[hb + p] = s;
              heapIdx[hb + p] = id;
              thr = heapSim[hb];
            }
          }
          heapLen[r] = len;
        }
      }
      for (let r = 0; r < nq; r++) {
        writeSorted(heapSim, heapIdx, r * k, heapLen[r], k, (q0 + r - outBase) * k, outIdx, outSim);
      }
    }
  }
}

function writeSorted(
  hs: Float32Array,
  hi: Int32Array,
  hb: number,
  len: number,
  k: number,
  ob: number,
  outIdx: Int32Array,
  outSim: Float32Array,
): void {
  const order = Array.from({ length: len }, (_, i) => i);
  order.sort((a, b) => hs[hb + b] - hs[hb + a] || hi[hb + a] - hi[hb + b]);
  for (let t = 0; t < len; t++) {
    outIdx[ob + t] = hi[hb + order[t]];
    outSim[ob + t] = hs[hb + order[t]];
  }
  for (let t = len; t < k; t++) {
    outIdx[ob + t] = -1;
    outSim[ob + t] = -Infinity;
  }
}
