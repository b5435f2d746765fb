/**
 * facecluster: find every face in a folder of photos, embed it, build a k-nearest-neighbour
 * similarity graph (WGSL compute shaders on WebGPU, or WASM SIMD on the CPU), cluster it
 * with the Infomap map equation, keep the people in a library that remembers the user's
 * decisions, and evaluate against labels. Nothing here reads `Deno.args` or exits; long
 * calls take progress callbacks and an `AbortSignal`.
 *
 * The calls a user makes:
 * - {@link clusterFolder}: a folder of photos in, people out (faces, clusters, timings,
 *   metrics for a labeled folder; with `out`, the output folder too).
 * - {@link openAtOutput} / {@link openLibrary} and {@link Library}: a photo library that
 *   remembers (one SQLite file): `run` (photos → people → output folder), `recluster`,
 *   `people`, `faces` and the decisions (`name`, `merge`, `move`, `split`, `notThisPerson`,
 *   `notAFace`, `undo`).
 * - {@link startReview}: the review page on 127.0.0.1.
 * - {@link clusterFeatures}: an N×D matrix of face features to clusters, as the seed does.
 * - {@link embedFaces} and {@link buildKnnGraph}: images to unit vectors, vectors to links.
 * - {@link infomap}: links to modules (the map equation, two-level).
 * - {@link evaluate}: pairwise, BCubed and NMI of a clustering against labels.
 * - {@link MODELS} and {@link modelByName}: the embedding models.
 *
 * The stages, the kNN backends, the models' plumbing and the file formats are under the
 * sub-paths `./stages`, `./knn`, `./models` and `./io`.
 *
 * ```ts
 * import { buildKnnGraph, evaluate, infomap } from "@facecluster/facecluster";
 * const vectors = new Float32Array([1, 0, 0.99, 0.1, 0, 1, 0.1, 0.99]);
 * const { links } = await buildKnnGraph(vectors, { dims: 2, k: 2, device: "cpu" });
 * const { modules } = infomap(links);
 * console.log(evaluate(["a", "a", "b", "b"], Array.from(modules)).bcubed.f); // 1
 * ```
 *
 * ```ts ignore
 * import { openAtOutput } from "@facecluster/facecluster";
 * const { lib, out } = await openAtOutput({ input: "photos" });
 * const r = await lib.run("photos", out, { evaluate: true });
 * const [first] = await lib.people();
 * await lib.name(first.id, "Alice");
 * await lib.recluster();
 * await lib.close();
 * console.log(r.update.people.people, r.evaluation?.metrics.bcubed.f);
 * ```
 *
 * @module
 */

export {
  clusterFolder,
  type ClusterFolderOptions,
  type FolderClustering,
} from "./lib/pipeline/cluster_folder.ts";
export {
  type FaceView,
  Library,
  type PersonView,
  type RunOptions,
  type RunSummary,
  type UpdateOptions,
  type UpdateSummary,
} from "./lib/library/library.ts";
export { openAtOutput, openLibrary } from "./lib/library/open.ts";
export type { LibrarySettings } from "./lib/library/settings.ts";
export { type ReviewOptions, type ReviewServer, startReview } from "./lib/review/server.ts";
export {
  clusterFeatures,
  type ClusterFeaturesOptions,
  type FeatureClustering,
} from "./lib/cluster/cluster_features.ts";
export {
  buildKnnGraph,
  type BuildKnnGraphOptions,
  type EmbeddedFaces,
  embedFaces,
  type EmbedFacesOptions,
} from "./lib/api.ts";
export { infomap, type InfomapOptions, type InfomapResult } from "./lib/infomap/infomap.ts";
export { type ClusteringMetrics, evaluate } from "./lib/metrics/metrics.ts";
export { type EmbeddingModel, MODELS } from "./lib/embed/models.ts";
export { modelByName } from "./lib/embed/model_file.ts";
export { InputError, LibraryBusyError } from "./lib/errors.ts";
