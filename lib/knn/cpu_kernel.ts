/**
 * Exact top-k by inner product on the CPU: blocked SIMD dot products in WebAssembly and a
 * bounded heap per row, never an N×N matrix. Two drivers: {@link TopKSearcher} searches a
 * range of query rows against all rows; {@link SymmetricTopK} uses sim(i, j) = sim(j, i)
 * to compute each pair of blocks once and feed both rows' heaps, half the work.
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

type DotsFn = (q: number, nq: number, c: number, nc: number, d: number, out: number) => void;

/** Rows per block (a multiple of 4). */
export const ROW_BLOCK = 128;
const BLOCK = ROW_BLOCK;

/**
 * The WebAssembly kernel with room for two blocks of rows and their tile of products.
 *
 * @example
 * ```ts
 * import { DotKernel } from "./cpu_kernel.ts";
 * const k = new DotKernel(2, 4);
 * k.load(0, new Float32Array([1, 0]), 0, 1);
 * k.load(1, new Float32Array([0.6, 0.8, 1, 0]), 0, 2);
 * const { tile } = k.tile(1, 2);
 * console.log(tile[0].toFixed(1), tile[1]); // "0.6" 1
 * ```
 */
export class DotKernel {
  readonly d: number;
  readonly dPad: number;
  readonly block: number;
  #memory: WebAssembly.Memory;
  #dots: DotsFn;
  #aOff: number;
  #bOff: number;
  #tOff: number;

  /**
   * @param d Row length.
   * @param block Rows per slot.
   */
  constructor(d: number, block: number) {
    this.d = d;
    this.dPad = Math.ceil(d / 4) * 4;
    this.block = block;
    const inst = new WebAssembly.Instance(kernelModule());
    this.#memory = inst.exports.memory as WebAssembly.Memory;
    this.#dots = inst.exports.dots as DotsFn;
    const rowBytes = this.dPad * 4;
    this.#aOff = 0;
    this.#bOff = block * rowBytes;
    this.#tOff = 2 * block * rowBytes;
    const need = this.#tOff + block * block * 4;
    const have = this.#memory.buffer.byteLength;
    if (need > have) this.#memory.grow(Math.ceil((need - have) / 65536));
  }

  /** Copies `count` rows starting at `from` into slot A (0) or B (1), zero-padded. */
  load(slot: 0 | 1, data: Float32Array, from: number, count: number): void {
    const { d, dPad, block } = this;
    const mem = new Float32Array(
      this.#memory.buffer,
      slot === 0 ? this.#aOff : this.#bOff,
      block * dPad,
    );
    const padTo = Math.ceil(count / 4) * 4;
    if (d === dPad) {
      mem.set(data.subarray(from * d, (from + count) * d));
      mem.fill(0, count * dPad, padTo * dPad);
    } else {
      mem.fill(0, 0, padTo * dPad);
      for (let r = 0; r < count; r++) {
        mem.set(data.subarray((from + r) * d, (from + r + 1) * d), r * dPad);
      }
    }
  }

  /**
   * Copies rows `order[from]`, …, `order[from + count - 1]` of `data` into slot A (0) or B (1),
   * zero-padded: the gathering form of {@link DotKernel.load} for rows kept in another order.
   */
  loadOrdered(
    slot: 0 | 1,
    data: Float32Array,
    order: Int32Array,
    from: number,
    count: number,
  ): void {
    const { d, dPad, block } = this;
    const mem = new Float32Array(
      this.#memory.buffer,
      slot === 0 ? this.#aOff : this.#bOff,
      block * dPad,
    );
    const padTo = Math.ceil(count / 4) * 4;
    if (d !== dPad) mem.fill(0, 0, padTo * dPad);
    else mem.fill(0, count * dPad, padTo * dPad);
    for (let r = 0; r < count; r++) {
      const o = order[from + r];
      mem.set(data.subarray(o * d, (o + 1) * d), r * dPad);
    }
  }

  /**
   * Tile of products of the first `na` rows of slot A with the first `nb` rows of slot B;
   * returns the tile, row stride `ncPad`.
   */
  tile(na: number, nb: number): { tile: Float32Array; stride: number } {
    const naPad = Math.ceil(na / 4) * 4, nbPad = Math.ceil(nb / 4) * 4;
    this.#dots(this.#aOff, naPad, this.#bOff, nbPad, this.dPad, this.#tOff);
    return {
      tile: new Float32Array(this.#memory.buffer, this.#tOff, naPad * nbPad),
      stride: nbPad,
    };
  }
}

/**
 * A bounded min-heap of (similarity, index) per row, ordered so that the best k under
 * "higher similarity, then lower index" are kept whatever the order of offers.
 */
export class RowHeaps {
  readonly k: number;
  readonly sim: Float32Array;
  readonly idx: Int32Array;
  readonly len: Int32Array;
  /** Similarity and index at each full heap's root (the worst kept), −∞ while not full. */
  readonly rootSim: Float32Array;
  readonly rootIdx: Int32Array;

  /**
   * @param rows Number of rows.
   * @param k Entries per row.
   * @param sim Storage for `rows * k` similarities (e.g. on a SharedArrayBuffer).
   * @param idx Storage for `rows * k` indices.
   * @param len Storage for `rows` lengths.
   */
  constructor(
    rows: number,
    k: number,
    sim: Float32Array = new Float32Array(rows * k),
    idx: Int32Array = new Int32Array(rows * k),
    len: Int32Array = new Int32Array(rows),
  ) {
    this.k = k;
    this.sim = sim;
    this.idx = idx;
    this.len = len;
    this.rootSim = new Float32Array(rows).fill(-Infinity);
    this.rootIdx = new Int32Array(rows).fill(-1);
  }

  /** Offers candidate `id` with similarity `s` to row `row` (the caller checked the root). */
  push(row: number, s: number, id: number): void {
    const k = this.k, hs = this.sim, hi = this.idx, hb = row * k;
    let len = this.len[row];
    if (len < k) {
      let p = len++;
      while (p > 0) {
        const parent = (p - 1) >> 1;
        const ps = hs[hb + parent], pi = hi[hb + parent];
        if (ps < s || (ps === s && pi > id)) break;
        hs[hb + p] = ps;
        hi[hb + p] = pi;
        p = parent;
      }
      hs[hb + p] = s;
      hi[hb + p] = id;
      this.len[row] = len;
    } else {
      let p = 0;
      for (;;) {
        let c = 2 * p + 1;
        if (c >= k) break;
        let cs = hs[hb + c], ci = hi[hb + c];
        if (c + 1 < k) {
          const rs = hs[hb + c + 1], ri = hi[hb + c + 1];
          if (rs < cs || (rs === cs && ri > ci)) {
            c++;
            cs = rs;
            ci = ri;
          }
        }
        if (s < cs || (s === cs && id > ci)) break;
        hs[hb + p] = cs;
        hi[hb + p] = ci;
        p = c;
      }
      hs[hb + p] = s;
      hi[hb + p] = id;
    }
    if (len === k) {
      this.rootSim[row] = hs[hb];
      this.rootIdx[row] = hi[hb];
    }
  }

  /**
   * Offers the products of rows `[rowBase, rowBase + nr)` with columns
   * `[colBase, colBase + nc)` from `tile` (row stride `stride`); with `transpose`, offers
   * them to the column rows instead (entry (r, c) goes to row colBase + c as index
   * rowBase + r). Rows are numbered from `heapBase` in this heap set.
   */
  offerTile(
    tile: Float32Array,
    stride: number,
    nr: number,
    nc: number,
    rowBase: number,
    colBase: number,
    heapBase: number,
    transpose: boolean,
  ): void {
    const rootSim = this.rootSim, rootIdx = this.rootIdx;
    if (!transpose) {
      for (let r = 0; r < nr; r++) {
        const row = rowBase + r - heapBase, tb = r * stride;
        let thr = rootSim[row];
        for (let c = 0; c < nc; c++) {
          const s = tile[tb + c];
          if (s < thr) continue;
          const id = colBase + c;
          if (s === thr && id > rootIdx[row]) continue;
          this.push(row, s, id);
          thr = rootSim[row];
        }
      }
    } else {
      for (let c = 0; c < nc; c++) {
        const row = colBase + c - heapBase;
        let thr = rootSim[row];
        for (let r = 0; r < nr; r++) {
          const s = tile[r * stride + c];
          if (s < thr) continue;
          const id = rowBase + r;
          if (s === thr && id > rootIdx[row]) continue;
          this.push(row, s, id);
          thr = rootSim[row];
        }
      }
    }
  }

  /**
   * Writes row `row`'s entries sorted (decreasing similarity, then increasing index) to
   * `outIdx`/`outSim` at offset `ob`, padding with index −1 and similarity −∞.
   */
  writeSorted(row: number, ob: number, outIdx: Int32Array, outSim: Float32Array): void {
    const k = this.k, hb = row * k, len = this.len[row], hs = this.sim, hi = this.idx;
    const order = Array.from({ length: len }, (_, i) => i);
    order.sort((a, b) => hs[hb + b] - hs[hb + a] || hi[hb + a] - hi[hb + b]);
    const s = order.map((o) => hs[hb + o]), x = order.map((o) => hi[hb + o]);
    for (let t = 0; t < len; t++) {
      outIdx[ob + t] = x[t];
      outSim[ob + t] = s[t];
    }
    for (let t = len; t < k; t++) {
      outIdx[ob + t] = -1;
      outSim[ob + t] = -Infinity;
    }
  }
}

/**
 * Exact top-k neighbours by inner product for rows `[rowStart, rowEnd)` of `data` against
 * all `n` rows, written (decreasing similarity, ties by lower index, −1 past `n`) into
 * `outIdx`/`outSim` at `(row - outBase) * k`.
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
  #kernel: DotKernel;

  /**
   * @param d Dimension of the rows.
   */
  constructor(d: number) {
    this.#kernel = new DotKernel(d, BLOCK);
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
   * @param outIdx Receives indices.
   * @param outSim Receives similarities.
   * @param outBase Row written at offset 0 of the outputs.
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
    const kern = this.#kernel;
    if (d !== kern.d) throw new Error(`TopKSearcher built for d=${kern.d}, got ${d}`);
    const B = kern.block;
    const heaps = new RowHeaps(B, k);
    for (let q0 = rowStart; q0 < rowEnd; q0 += B) {
      const nq = Math.min(B, rowEnd - q0);
      kern.load(0, data, q0, nq);
      heaps.len.fill(0);
      heaps.rootSim.fill(-Infinity);
      heaps.rootIdx.fill(-1);
      for (let c0 = 0; c0 < n; c0 += B) {
        const nc = Math.min(B, n - c0);
        kern.load(1, data, c0, nc);
        const { tile, stride } = kern.tile(nq, nc);
        heaps.offerTile(tile, stride, nq, nc, q0, c0, q0, false);
      }
      for (let r = 0; r < nq; r++) heaps.writeSorted(r, (q0 + r - outBase) * k, outIdx, outSim);
    }
  }
}

/**
 * The all-rows kNN using symmetry: block pair (I, J), J ≥ I, is computed once and offered
 * to the rows of I and of J. Several of these (one per worker, each with its own heaps
 * for all rows) can share the block pairs; {@link mergeSortedLists} joins their results.
 *
 * @example
 * ```ts
 * import { SymmetricTopK } from "./cpu_kernel.ts";
 * const data = new Float32Array([1, 0, 0, 1, 0.6, 0.8]);
 * const s = new SymmetricTopK(data, 3, 2, 2);
 * for (let b = 0; b < s.blocks; b++) s.processBlock(b);
 * const idx = new Int32Array(6), sim = new Float32Array(6);
 * s.writeSorted(idx, sim);
 * console.log(idx[0], idx[1]); // 0 2
 * ```
 */
export class SymmetricTopK {
  #kernel: DotKernel;
  #data: Float32Array;
  #n: number;
  readonly heaps: RowHeaps;
  /** Number of row blocks. */
  readonly blocks: number;

  /**
   * @param data All rows, row-major.
   * @param n Number of rows.
   * @param d Dimension.
   * @param k Neighbours per row.
   * @param heaps Heap storage for all rows (fresh arrays if omitted).
   */
  constructor(data: Float32Array, n: number, d: number, k: number, heaps?: RowHeaps) {
    this.#kernel = new DotKernel(d, BLOCK);
    this.#data = data;
    this.#n = n;
    this.heaps = heaps ?? new RowHeaps(n, k);
    this.blocks = Math.ceil(n / BLOCK);
  }

  /**
   * Processes the block pairs (I, J) for every J ≥ I.
   *
   * @param I The row block.
   */
  processBlock(I: number): void {
    const kern = this.#kernel, B = kern.block, n = this.#n;
    const i0 = I * B, ni = Math.min(B, n - i0);
    kern.load(0, this.#data, i0, ni);
    for (let J = I; J < this.blocks; J++) {
      const j0 = J * B, nj = Math.min(B, n - j0);
      kern.load(1, this.#data, j0, nj);
      const { tile, stride } = kern.tile(ni, nj);
      this.heaps.offerTile(tile, stride, ni, nj, i0, j0, 0, false);
      if (J !== I) this.heaps.offerTile(tile, stride, ni, nj, i0, j0, 0, true);
    }
  }

  /**
   * Writes every row's sorted list.
   *
   * @param outIdx Receives `n * k` indices.
   * @param outSim Receives `n * k` similarities.
   */
  writeSorted(outIdx: Int32Array, outSim: Float32Array): void {
    const k = this.heaps.k;
    for (let r = 0; r < this.#n; r++) this.heaps.writeSorted(r, r * k, outIdx, outSim);
  }
}

/**
 * Merges, row by row, several sorted top-k lists of the same rows into one (decreasing
 * similarity, then increasing index; −1 entries are empty).
 *
 * @param lists The lists: `[indices, similarities]` pairs of `n * k` entries each.
 * @param n Rows.
 * @param k Entries per row.
 * @returns The merged lists.
 *
 * @example
 * ```ts
 * import { mergeSortedLists } from "./cpu_kernel.ts";
 * const m = mergeSortedLists([
 *   [new Int32Array([2, -1]), new Float32Array([0.9, -Infinity])],
 *   [new Int32Array([1, 3]), new Float32Array([0.95, 0.5])],
 * ], 1, 2);
 * console.log(m.indices); // Int32Array [1, 2]
 * ```
 */
export function mergeSortedLists(
  lists: [Int32Array, Float32Array][],
  n: number,
  k: number,
): { indices: Int32Array; similarities: Float32Array } {
  const indices = new Int32Array(n * k).fill(-1);
  const similarities = new Float32Array(n * k).fill(-Infinity);
  const pos = new Int32Array(lists.length);
  for (let r = 0; r < n; r++) {
    const b = r * k;
    pos.fill(0);
    for (let t = 0; t < k; t++) {
      let best = -1, bs = -Infinity, bi = 0;
      for (let w = 0; w < lists.length; w++) {
        if (pos[w] >= k) continue;
        const i = lists[w][0][b + pos[w]];
        if (i < 0) continue;
        const s = lists[w][1][b + pos[w]];
        if (best < 0 || s > bs || (s === bs && i < bi)) {
          best = w;
          bs = s;
          bi = i;
        }
      }
      if (best < 0) break;
      pos[best]++;
      indices[b + t] = bi;
      similarities[b + t] = bs;
    }
  }
  return { indices, similarities };
}
