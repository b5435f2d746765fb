/**
 * k nearest neighbours and the link rule: on the CPU (WebAssembly SIMD, worker threads; exact
 * up to 20,000 rows, an inverted file above, with a recall report against exact search) or
 * exactly on a GPU through WebGPU (WGSL), the backend chosen by device, and the seed's
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

export { CpuKnn, type CpuKnnMethod, type CpuKnnOptions, EXACT_UP_TO } from "./cpu.ts";
export { IvfKnn, type IvfKnnOptions, type IvfLayout } from "./ivf.ts";
export { type LinkRecall, linkRecall, type LinkRecallOptions } from "./recall.ts";
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
