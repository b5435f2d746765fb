/**
 * The web Worker constructor, taken when this module first loads: onnxruntime-web's WASM
 * start-up (its Node build, which Deno gets) replaces `globalThis.Worker` with Node's
 * worker_threads Worker, in which a web worker script does not run. Every pool here makes
 * its workers with this one.
 *
 * @module
 */

/**
 * Deno's web `Worker`, as it was before any onnxruntime-web session started.
 *
 * @example
 * ```ts ignore
 * import { WebWorker } from "./web_worker.ts";
 * const w = new WebWorker(new URL("./knn/cpu_worker.ts", import.meta.url), { type: "module" });
 * ```
 */
export const WebWorker: typeof Worker = globalThis.Worker;
