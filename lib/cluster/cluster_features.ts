/**
 * Features in, people out: L2-normalise, kNN, the seed's link rule, directed
 * two-level Infomap, singletons for rows without links.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import type { Matrix } from "../io/npy.ts";
import { infomap, type InfomapOptions } from "../infomap/infomap.ts";
import { CpuKnn } from "../knn/cpu.ts";
import { type Links, linksFromKnn } from "../knn/links.ts";
import { l2Normalize } from "../knn/normalize.ts";
import type { KnnBackend, KnnGraph } from "../knn/types.ts";
import { type LinkRecall, linkRecall } from "../knn/recall.ts";
import { DEFAULT_K, DEFAULT_MIN_SIM } from "../defaults.ts";

/** Options of {@link clusterFeatures}. */
export interface ClusterFeaturesOptions {
  /** Neighbours per row, the row itself included. @default 80 */
  k?: number;
  /** Smallest similarity that links two rows. @default 0.5 */
  minSim?: number;
  /** The kNN implementation. @default new CpuKnn() */
  knn?: KnnBackend;
  /** Options passed to Infomap (directed is always true here). */
  infomap?: Omit<InfomapOptions, "directed">;
  /** Name of the input for error messages. @default "features" */
  name?: string;
  /** Stops the run early. */
  signal?: AbortSignal;
  /** Called when a stage starts. */
  onStage?: (stage: "normalize" | "knn" | "links" | "infomap" | "recall") => void;
  /** Rows checked by exact search when the kNN is approximate (0: none). @default 1000 */
  recallSample?: number;
}

/** Seconds spent per stage. */
export interface StageSeconds {
  /** Checking and L2-normalising. */
  normalize: number;
  /** kNN. */
  knn: number;
  /** Applying the link rule. */
  links: number;
  /** Flow and search. */
  infomap: number;
  /** Exact search on a sample of rows for the recall report (0 when kNN was exact). */
  recall: number;
}

/** What {@link clusterFeatures} found. */
export interface FeatureClustering {
  /** Cluster of each row: clusters numbered by decreasing size, singletons last. */
  labels: Int32Array;
  /** Number of clusters, singletons included. */
  numClusters: number;
  /** Rows without any link, each its own cluster. */
  singletons: number;
  /** The kNN lists. */
  knn: KnnGraph;
  /** The links Infomap clustered. */
  links: Links;
  /** Infomap's two-level codelength in bits (0 when there are no links). */
  codelength: number;
  /** The one-level codelength of the link graph. */
  oneLevelCodelength: number;
  /** Name of the kNN implementation used. */
  knnBackend: string;
  /** Recall of the links against exact search on a sample, when kNN was approximate. */
  recall?: LinkRecall;
  /** Seconds per stage. */
  seconds: StageSeconds;
}

/**
 * Clusters feature rows into people as the seed does.
 *
 * @param features One row per face.
 * @param options k, min_sim, kNN backend, Infomap options.
 * @returns Labels and the intermediate graph.
 * @throws {InputError} On bad features or options.
 *
 * @example
 * ```ts
 * import { clusterFeatures } from "./cluster_features.ts";
 * const data = new Float32Array([1, 0, 0.99, 0.1, 0, 1, 0.1, 0.99]);
 * const r = await clusterFeatures({ rows: 4, cols: 2, data }, { k: 2, minSim: 0.5 });
 * console.log(r.labels); // Int32Array [0, 0, 1, 1]
 * ```
 */
export async function clusterFeatures(
  features: Matrix,
  options: ClusterFeaturesOptions = {},
): Promise<FeatureClustering> {
  const k = options.k ?? DEFAULT_K;
  const minSim = options.minSim ?? DEFAULT_MIN_SIM;
  if (!Number.isInteger(k) || k < 1) throw new InputError("k", `must be an integer ≥ 1, got ${k}`);
  if (!(minSim >= -1 && minSim <= 1)) {
    throw new InputError("min_sim", `must lie in [-1, 1], got ${minSim}`);
  }
  const seconds: StageSeconds = { normalize: 0, knn: 0, links: 0, infomap: 0, recall: 0 };
  let t = performance.now();
  const lap = (stage: keyof StageSeconds) => {
    const now = performance.now();
    seconds[stage] = (now - t) / 1000;
    t = now;
  };
  options.onStage?.("normalize");
  const vectors = l2Normalize(features, options.name ?? "features");
  lap("normalize");
  options.signal?.throwIfAborted();
  options.onStage?.("knn");
  const backend = options.knn ?? new CpuKnn();
  const knn = await backend.search(vectors, Math.min(k, vectors.rows), {
    signal: options.signal,
    minSim,
  });
  lap("knn");
  options.onStage?.("links");
  const links = linksFromKnn(knn, minSim);
  lap("links");
  options.signal?.throwIfAborted();
  options.onStage?.("infomap");
  const n = vectors.rows;
  const raw = new Int32Array(n).fill(-1);
  let codelength = 0, oneLevelCodelength = 0;
  if (links.source.length > 0) {
    const res = infomap(links, { ...options.infomap, directed: true });
    for (let i = 0; i < res.nodeIds.length; i++) raw[res.nodeIds[i]] = res.modules[i];
    codelength = res.codelength;
    oneLevelCodelength = res.oneLevelCodelength;
  }
  lap("infomap");
  let recall: LinkRecall | undefined;
  const sample = options.recallSample ?? 1000;
  if (knn.approximate && sample > 0) {
    options.onStage?.("recall");
    recall = await linkRecall(vectors, knn, minSim, { sample });
    lap("recall");
  }
  const { labels, numClusters, singletons } = relabelBySize(raw);
  return {
    labels,
    numClusters,
    singletons,
    knn,
    links,
    codelength,
    oneLevelCodelength,
    knnBackend: backend.name,
    ...(recall ? { recall } : {}),
    seconds,
  };
}

/**
 * Numbers clusters by decreasing size (ties by first row); rows with −1 become singletons
 * after all clusters.
 */
function relabelBySize(
  raw: Int32Array,
): { labels: Int32Array; numClusters: number; singletons: number } {
  const n = raw.length;
  let maxId = -1;
  for (let i = 0; i < n; i++) if (raw[i] > maxId) maxId = raw[i];
  const size = new Int32Array(maxId + 1), first = new Int32Array(maxId + 1).fill(n);
  for (let i = 0; i < n; i++) {
    const m = raw[i];
    if (m < 0) continue;
    size[m]++;
    if (first[m] === n) first[m] = i;
  }
  const ids = [];
  for (let m = 0; m <= maxId; m++) if (size[m] > 0) ids.push(m);
  ids.sort((a, b) => size[b] - size[a] || first[a] - first[b]);
  const rank = new Int32Array(maxId + 1);
  ids.forEach((m, r) => (rank[m] = r));
  const labels = new Int32Array(n);
  let next = ids.length, singletons = 0;
  for (let i = 0; i < n; i++) {
    if (raw[i] >= 0) labels[i] = rank[raw[i]];
    else {
      labels[i] = next++;
      singletons++;
    }
  }
  return { labels, numClusters: next, singletons };
}
