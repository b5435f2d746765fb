/**
 * k nearest neighbours and the link rule: exact search on the CPU (WebAssembly SIMD, worker
 * threads) or on a GPU through WebGPU (WGSL), the backend chosen by device, and the seed's
 * links (a face's neighbours by decreasing similarity while at least `min_sim`).
 *
 * ```ts
 * import { createKnnBackend, l2Normalize, linksFromKnn } from "@facecluster/facecluster/knn";
 * const v = l2Normalize({ rows: 3, cols: 2, data: new Float32Array([1, 0, 0.9, 0.1, 0, 1]) });
 * const knn = await createKnnBackend("cpu");
 * const links = linksFromKnn(await knn.search(v, 2), 0.5);
 * console.log(links.source.length); // 2
 * ```
 *
 * @module
 */

export { CpuKnn, type CpuKnnOptions } from "./cpu.ts";
export { GpuError, GpuKnn, type GpuKnnOptions } from "./gpu.ts";
export {
  createKnnBackend,
  type CreateKnnOptions,
  FallbackKnn,
  type KnnDevice,
  LazyKnn,
} from "./select.ts";
export type { KnnBackend, KnnGraph, KnnSearchOptions } from "./types.ts";
export { type Links, linksFromKnn } from "./links.ts";
export { l2Normalize } from "./normalize.ts";
export { acquireGpu, type AcquireGpuOptions, type GpuContext } from "../gpu/device.ts";
export type { LinkList } from "../infomap/flow_graph.ts";
export { codelengthOf } from "../infomap/infomap.ts";
