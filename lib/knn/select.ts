/**
 * Choosing where kNN runs: `auto` (a hardware GPU when there is one, else the CPU), `gpu`
 * (any WebGPU adapter, software ones included), or `cpu`; a GPU that fails falls back to
 * the CPU with a one-line notice.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import type { Matrix } from "../io/npy.ts";
import { acquireGpu } from "../gpu/device.ts";
import { CpuKnn, type CpuKnnOptions } from "./cpu.ts";
import { GpuError, GpuKnn, type GpuKnnOptions } from "./gpu.ts";
import type { KnnBackend, KnnGraph, KnnSearchOptions } from "./types.ts";

/** Where kNN runs. */
export type KnnDevice = "auto" | "gpu" | "cpu";

/** Options of {@link createKnnBackend}. */
export interface CreateKnnOptions {
  /** Receives one-line notices (which adapter, fallbacks). @default console.error */
  onNotice?: (message: string) => void;
  /** Options of the CPU path. */
  cpu?: CpuKnnOptions;
  /** Options of the GPU path. */
  gpu?: GpuKnnOptions;
}

/**
 * Runs kNN on a GPU and, when the GPU fails (device lost, out of memory, a dispatch cut
 * short), on the CPU instead, after a one-line notice.
 *
 * @example
 * ```ts ignore
 * import { FallbackKnn } from "./select.ts";
 * const knn = new FallbackKnn(gpuKnn, new CpuKnn(), console.error);
 * ```
 */
export class FallbackKnn implements KnnBackend {
  #gpu: KnnBackend;
  #cpu: KnnBackend;
  #notice: (message: string) => void;
  #failed = false;

  /**
   * Wraps a GPU backend with its CPU fallback.
   *
   * @param gpu The preferred backend.
   * @param cpu The fallback.
   * @param notice Receives the fallback notice.
   */
  constructor(gpu: KnnBackend, cpu: KnnBackend, notice: (message: string) => void) {
    this.#gpu = gpu;
    this.#cpu = cpu;
    this.#notice = notice;
  }

  /** The backend in use (the CPU's after a fallback). */
  get name(): string {
    return this.#failed ? this.#cpu.name : this.#gpu.name;
  }

  /**
   * Searches on the GPU, or on the CPU once the GPU has failed.
   *
   * @param vectors L2-normalised rows.
   * @param k Neighbours per row.
   * @param options Signal and threshold.
   * @returns The neighbours.
   */
  async search(vectors: Matrix, k: number, options: KnnSearchOptions = {}): Promise<KnnGraph> {
    if (!this.#failed) {
      try {
        return await this.#gpu.search(vectors, k, options);
      } catch (e) {
        if (!(e instanceof GpuError)) throw e;
        this.#failed = true;
        this.#notice(`kNN: GPU failed (${e.message}); using the CPU instead`);
      }
    }
    return await this.#cpu.search(vectors, k, options);
  }
}

/**
 * Makes the kNN backend for a device choice.
 *
 * @param device `auto`, `gpu` or `cpu`.
 * @param options Notices and per-path options.
 * @returns The backend.
 * @throws {InputError} For `gpu` when there is no WebGPU adapter at all.
 *
 * @example
 * ```ts ignore
 * import { createKnnBackend } from "./select.ts";
 * const knn = await createKnnBackend("auto");
 * console.log(knn.name);
 * ```
 */
export async function createKnnBackend(
  device: KnnDevice,
  options: CreateKnnOptions = {},
): Promise<KnnBackend> {
  const notice = options.onNotice ?? ((m: string) => console.error(m));
  const cpu = new CpuKnn(options.cpu);
  if (device === "cpu") return cpu;
  if (device !== "auto" && device !== "gpu") {
    throw new InputError("--device", `expected auto, gpu or cpu, got '${device}'`);
  }
  const ctx = await acquireGpu({ allowSoftware: device === "gpu" });
  if (!ctx) {
    if (device === "gpu") throw new InputError("--device gpu", "no WebGPU adapter was found");
    notice("kNN: no hardware GPU adapter; using the CPU");
    return cpu;
  }
  notice(`kNN: using the GPU adapter ${ctx.description}`);
  return new FallbackKnn(new GpuKnn(ctx, options.gpu), cpu, notice);
}

/**
 * A kNN backend made on its first search ({@link createKnnBackend}'s choice), so that a run
 * that never needs a full search (an incremental library update) never probes the GPU.
 *
 * @example
 * ```ts
 * import { LazyKnn } from "./select.ts";
 * const knn = new LazyKnn("cpu", {});
 * const g = await knn.search({ rows: 2, cols: 2, data: new Float32Array([1, 0, 0, 1]) }, 1);
 * console.log(knn.name.startsWith("cpu"), g.indices); // true Int32Array(2) [0, 1]
 * ```
 */
export class LazyKnn implements KnnBackend {
  #device: KnnDevice;
  #options: CreateKnnOptions;
  #backend: Promise<KnnBackend> | null = null;
  #name = "not started";

  /**
   * Makes the backend; nothing is probed until the first search.
   *
   * @param device As for {@link createKnnBackend}.
   * @param options As for {@link createKnnBackend}.
   */
  constructor(device: KnnDevice, options: CreateKnnOptions) {
    this.#device = device;
    this.#options = options;
  }

  /** The backend's name once made. */
  get name(): string {
    return this.#name;
  }

  /**
   * Makes the backend (once) and searches with it.
   *
   * @param vectors L2-normalised rows.
   * @param k Neighbours per row.
   * @param options Abort signal, threshold.
   * @returns The neighbours.
   */
  async search(vectors: Matrix, k: number, options?: KnnSearchOptions): Promise<KnnGraph> {
    this.#backend ??= createKnnBackend(this.#device, this.#options);
    const backend = await this.#backend;
    const g = await backend.search(vectors, k, options);
    this.#name = backend.name;
    return g;
  }
}
