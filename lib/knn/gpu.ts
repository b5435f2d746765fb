/**
 * The GPU kNN path: `shaders/knn_topk.wgsl` run through WebGPU, with the rows cut into
 * chunks that fit the adapter's buffer limits, and a backend that falls back to the CPU
 * path when the GPU fails.
 *
 * @module
 */

import type { Matrix } from "../io/npy.ts";
import { type GpuContext, loadShader } from "../gpu/device.ts";
import { TopKSearcher } from "./cpu_kernel.ts";
import type { KnnBackend, KnnGraph, KnnSearchOptions } from "./types.ts";

/** Query rows per workgroup in the shader. */
const TQ = 64;
/** Floats of the feature dimension per step in the shader. */
const TD = 16;
/** Candidate rows per tile in the shader. */
const TC = 64;

/** Options of {@link GpuKnn}. */
export interface GpuKnnOptions {
  /** At most this many rows per query or candidate chunk (to bound memory, or for tests). */
  maxChunkRows?: number;
  /** At most this many bytes per buffer. @default 1 GiB */
  maxBufferBytes?: number;
  /**
   * Multiply-adds per dispatch at most (long dispatches can be cut off by the driver).
   * @default one tile of candidates per dispatch on a software adapter, 2^36 on hardware
   */
  workPerDispatch?: number;
  /** Rows recomputed on the CPU to check the GPU's result. @default 32 */
  verifyRows?: number;
}

/** A failure of the GPU itself (device lost, out of memory, validation). */
export class GpuError extends Error {
  /**
   * Makes the error.
   *
   * @param message What failed.
   */
  constructor(message: string) {
    super(message);
    this.name = "GpuError";
  }
}

/**
 * Exact kNN on a WebGPU device: blocked similarity fused with per-row top-k and the
 * `minSim` threshold (neighbours below it are left out, index −1).
 *
 * @example
 * ```ts ignore
 * import { acquireGpu } from "../gpu/device.ts";
 * import { GpuKnn } from "./gpu.ts";
 * const gpu = await acquireGpu({ allowSoftware: true });
 * if (gpu) {
 *   const g = await new GpuKnn(gpu).search(
 *     { rows: 2, cols: 2, data: new Float32Array([1, 0, 0, 1]) },
 *     2,
 *   );
 *   console.log(g.indices);
 * }
 * ```
 */
export class GpuKnn implements KnnBackend {
  #ctx: GpuContext;
  #options: GpuKnnOptions;
  #pipeline: GPUComputePipeline | null = null;
  #lost: string | null = null;

  /**
   * Makes a GPU kNN searcher on a device.
   *
   * @param ctx The device to run on.
   * @param options Chunk limits.
   */
  constructor(ctx: GpuContext, options: GpuKnnOptions = {}) {
    this.#ctx = ctx;
    this.#options = options;
    ctx.device.lost.then((info) => {
      this.#lost = `device lost (${info.reason}): ${info.message}`;
    });
  }

  /** "gpu" and the adapter's name. */
  get name(): string {
    return `gpu (${this.#ctx.description})`;
  }

  async #getPipeline(): Promise<GPUComputePipeline> {
    if (!this.#pipeline) {
      const module = this.#ctx.device.createShaderModule({
        code: await loadShader("knn_topk.wgsl"),
      });
      this.#pipeline = await this.#ctx.device.createComputePipelineAsync({
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
    }
    return this.#pipeline;
  }

  /**
   * Finds each row's k nearest rows (see {@link KnnBackend.search}).
   *
   * @param vectors L2-normalised rows.
   * @param k Neighbours per row.
   * @param options `minSim` and an abort signal.
   * @returns The neighbours.
   * @throws {GpuError} When the device is lost or runs out of memory.
   */
  async search(vectors: Matrix, k: number, options: KnnSearchOptions = {}): Promise<KnnGraph> {
    // one method over 80 lines on purpose: the GPU buffers, bind groups and the tiled
    // dispatch loop live and die together; each step is commented where it happens
    const { device } = this.#ctx;
    if (this.#lost) throw new GpuError(this.#lost);
    const { rows: n, cols: d, data } = vectors;
    const minSim = options.minSim ?? -Infinity;
    const dPad = Math.ceil(d / TD) * TD;
    const rowBytes = dPad * 4;
    const lim = device.limits;
    const maxBind = Math.min(
      lim.maxStorageBufferBindingSize,
      lim.maxBufferSize,
      this.#options.maxBufferBytes ?? 1 << 30,
    );
    const cap = this.#options.maxChunkRows ?? Infinity;
    let candRows = Math.min(n, cap, Math.floor(maxBind / rowBytes));
    let queryRows = Math.min(
      n,
      cap,
      Math.floor(maxBind / rowBytes),
      Math.floor(maxBind / (k * 4)),
      lim.maxComputeWorkgroupsPerDimension * TQ,
    );
    if (candRows < 1 || queryRows < 1) {
      throw new GpuError(`rows of ${d} floats do not fit the adapter's buffer limits`);
    }
    if (candRows < n) candRows = Math.max(TQ, candRows - (candRows % TQ));
    if (queryRows < n) queryRows = Math.max(TQ, queryRows - (queryRows % TQ));
    const pipeline = await this.#getPipeline();
    let workPerDispatch = this.#options.workPerDispatch ??
      (this.#ctx.isSoftware ? 0 : 2 ** 36);
    const indices = new Int32Array(n * k).fill(-1);
    const similarities = new Float32Array(n * k).fill(-Infinity);

    const upload = (buf: GPUBuffer, from: number, count: number) => {
      if (d === dPad) {
        device.queue.writeBuffer(buf, 0, data as Float32Array<ArrayBuffer>, from * d, count * d);
      } else {
        const tmp = new Float32Array(count * dPad);
        for (let r = 0; r < count; r++) {
          tmp.set(data.subarray((from + r) * d, (from + r + 1) * d), r * dPad);
        }
        device.queue.writeBuffer(buf, 0, tmp);
      }
    };
    const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    const buffers: GPUBuffer[] = [];
    const make = (size: number, usage: number) => {
      const b = device.createBuffer({ size: Math.max(16, size), usage });
      buffers.push(b);
      return b;
    };
    let failure: unknown = null;
    try {
      const single = queryRows >= n && candRows >= n;
      const qBuf = make(queryRows * rowBytes, STORAGE);
      const cBuf = single ? qBuf : make(candRows * rowBytes, STORAGE);
      const simBuf = make(queryRows * k * 4, STORAGE);
      const idxBuf = make(queryRows * k * 4, STORAGE);
      const params = make(32, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      const doneBuf = make(16, STORAGE);
      const readDone = make(16, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      const readSim = make(queryRows * k * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      const readIdx = make(queryRows * k * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      const bind = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: qBuf } },
          { binding: 1, resource: { buffer: cBuf } },
          { binding: 2, resource: { buffer: simBuf } },
          { binding: 3, resource: { buffer: idxBuf } },
          { binding: 4, resource: { buffer: params } },
          { binding: 5, resource: { buffer: doneBuf } },
        ],
      });
      const noEntries = new Int32Array(queryRows * k).fill(-1);
      const p = new ArrayBuffer(32);
      const pu = new Uint32Array(p), pf = new Float32Array(p);
      for (let q0 = 0; q0 < n;) {
        options.signal?.throwIfAborted();
        const nq = Math.min(queryRows, n - q0);
        upload(qBuf, q0, nq);
        device.queue.writeBuffer(idxBuf, 0, noEntries, 0, nq * k);
        device.queue.writeBuffer(doneBuf, 0, new Uint32Array(4));
        let dispatched = 0;
        // candidates per dispatch, so that no dispatch runs long enough to be cut off
        const step = Math.max(TC, Math.floor(workPerDispatch / (nq * dPad) / TC) * TC);
        for (let c0 = 0; c0 < n; c0 += candRows) {
          const nc = Math.min(candRows, n - c0);
          if (!single) upload(cBuf, c0, nc);
          for (let b = 0; b < nc; b += step) {
            pu[0] = nq;
            pu[1] = Math.min(nc, b + step);
            pu[2] = dPad / 4;
            pu[3] = k;
            pu[4] = c0;
            pu[5] = b;
            pf[6] = Math.max(minSim, -3.4e38);
            device.queue.writeBuffer(params, 0, p);
            const enc = device.createCommandEncoder();
            const pass = enc.beginComputePass();
            pass.setPipeline(pipeline);
            pass.setBindGroup(0, bind);
            pass.dispatchWorkgroups(Math.ceil(nq / TQ));
            dispatched += Math.ceil(nq / TQ);
            pass.end();
            device.queue.submit([enc.finish()]);
            await device.queue.onSubmittedWorkDone();
            if (this.#lost) throw new GpuError(this.#lost);
            options.signal?.throwIfAborted();
          }
        }
        const enc = device.createCommandEncoder();
        enc.copyBufferToBuffer(simBuf, 0, readSim, 0, nq * k * 4);
        enc.copyBufferToBuffer(idxBuf, 0, readIdx, 0, nq * k * 4);
        enc.copyBufferToBuffer(doneBuf, 0, readDone, 0, 16);
        device.queue.submit([enc.finish()]);
        await Promise.all([
          readSim.mapAsync(GPUMapMode.READ, 0, nq * k * 4),
          readIdx.mapAsync(GPUMapMode.READ, 0, nq * k * 4),
          readDone.mapAsync(GPUMapMode.READ),
        ]);
        const s = new Float32Array(readSim.getMappedRange(0, nq * k * 4));
        const ix = new Int32Array(readIdx.getMappedRange(0, nq * k * 4));
        indices.set(ix.subarray(0, nq * k), q0 * k);
        similarities.set(s.subarray(0, nq * k), q0 * k);
        for (let e = q0 * k; e < (q0 + nq) * k; e++) {
          if (indices[e] < 0) similarities[e] = -Infinity;
        }
        readSim.unmap();
        readIdx.unmap();
        const finished = new Uint32Array(readDone.getMappedRange())[0];
        readDone.unmap();
        if (finished !== dispatched) {
          // a dispatch was cut short: redo this chunk with smaller dispatches
          if (step <= TC) {
            throw new GpuError(
              `the driver cut dispatches short (${finished} of ${dispatched} workgroups finished)`,
            );
          }
          workPerDispatch /= 8;
          continue;
        }
        q0 += nq;
      }
    } catch (e) {
      failure = e;
    }
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    for (const b of buffers) b.destroy();
    if (oom) throw new GpuError(`out of GPU memory: ${oom.message}`);
    if (validation) throw new GpuError(`WebGPU validation error: ${validation.message}`);
    if (this.#lost) throw new GpuError(this.#lost);
    if (failure) throw failure;
    this.#verify(vectors, k, minSim, indices, similarities);
    return { n, k, indices, similarities };
  }

  /**
   * Recomputes a block of rows exactly on the CPU and compares: a driver that silently
   * drops work becomes a {@link GpuError} (and a CPU fallback), never a wrong result.
   */
  #verify(
    vectors: Matrix,
    k: number,
    minSim: number,
    indices: Int32Array,
    similarities: Float32Array,
  ): void {
    const { rows: n, cols: d, data } = vectors;
    const count = Math.min(n, this.#options.verifyRows ?? 32);
    if (count === 0) return;
    const start = Math.floor((n - count) / 2);
    const idx = new Int32Array(count * k), sim = new Float32Array(count * k);
    new TopKSearcher(d).search(data, n, d, start, start + count, k, idx, sim, start);
    for (let r = start; r < start + count; r++) {
      for (let t = 0; t < k; t++) {
        const e = r * k + t, c = (r - start) * k + t;
        const want = idx[c] >= 0 && sim[c] >= minSim ? sim[c] : -Infinity;
        const got = indices[e] >= 0 ? similarities[e] : -Infinity;
        // a neighbour within rounding of min_sim may be on either side of it
        const edge = Math.abs(Math.max(want, got) - minSim) <= 1e-4;
        if (!(want === got || Math.abs(want - got) <= 1e-4 || edge)) {
          throw new GpuError(
            `GPU result failed the CPU check (row ${r}, neighbour ${t}: ${got} instead of ${want})`,
          );
        }
      }
    }
  }
}
