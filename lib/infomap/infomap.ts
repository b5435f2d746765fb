/**
 * Two-level Infomap (the map equation) over any weighted link list.
 *
 * @module
 */

import { buildFlowGraph, type LinkList } from "./flow_graph.ts";
import { Prng } from "./prng.ts";
import { partitionCodelength, plogp, type SearchResult, twoLevelSearch } from "./search.ts";

/** Options of {@link infomap}. */
export interface InfomapOptions {
  /** Directed flow (teleportation to links, unrecorded); false for undirected. @default true */
  directed?: boolean;
  /** Number of independent trials; the partition with the smallest codelength is kept. @default 1 */
  trials?: number;
  /** Seed of the random node order. @default 123 */
  seed?: number;
  /** Core loops on the leaf level. @default 10 */
  coreLoopLimit?: number;
  /** Core loops on aggregated levels. @default 20 */
  aggregatedCoreLoopLimit?: number;
  /** Fine/coarse tuning iterations at most. @default 50 */
  tuneIterationLimit?: number;
  /** Teleportation probability of the directed flow model. @default 0.15 */
  teleportationProbability?: number;
}

/** The partition Infomap found. */
export interface InfomapResult {
  /** Every node id that occurs in a link, increasing. */
  nodeIds: Int32Array;
  /** Top module of `nodeIds[i]`, 0-based, modules ordered by decreasing flow. */
  modules: Int32Array;
  /** Number of top modules. */
  numModules: number;
  /** Flow of each module, decreasing. */
  moduleFlow: Float64Array;
  /** Two-level codelength of the partition, in bits. */
  codelength: number;
  /** Codelength with every node in one module, in bits. */
  oneLevelCodelength: number;
  /** Visit rate of each node (same order as `nodeIds`). */
  flow: Float64Array;
}

/**
 * Finds the two-level partition of a network that minimises the map equation, as
 * Infomap's `--two-level` (with `--directed` unless `directed: false`) does.
 *
 * @param links The weighted links; duplicates are summed, self-links count in the flow.
 * @param options Flow model, trials, seed and limits.
 * @returns The modules of the nodes and the codelength.
 *
 * @example
 * ```ts
 * import { infomap } from "./infomap.ts";
 * const res = infomap({
 *   source: [0, 1, 2, 3, 4, 5, 2],
 *   target: [1, 2, 0, 4, 5, 3, 3],
 *   weight: [1, 1, 1, 1, 1, 1, 0.1],
 * }, { directed: false });
 * console.log(res.numModules); // 2
 * ```
 */
export function infomap(links: LinkList, options: InfomapOptions = {}): InfomapResult {
  const directed = options.directed ?? true;
  const { graph, nodeIds } = buildFlowGraph(links, {
    directed,
    teleportationProbability: options.teleportationProbability,
  });
  const n = graph.n;
  let oneLevel = 0;
  for (let i = 0; i < n; i++) oneLevel -= plogp(graph.flow[i]);
  const limits = {
    coreLoopLimit: options.coreLoopLimit ?? 10,
    aggregatedCoreLoopLimit: options.aggregatedCoreLoopLimit ?? 20,
    tuneIterationLimit: options.tuneIterationLimit ?? 50,
  };
  const trials = Math.max(1, options.trials ?? 1);
  const rng = new Prng(options.seed ?? 123);
  let best: SearchResult | null = null;
  if (n > 0) {
    for (let t = 0; t < trials; t++) {
      const r = twoLevelSearch(graph, oneLevel, limits, rng);
      if (!best || r.codelength < best.codelength) best = r;
    }
  }
  if (!best || best.codelength > oneLevel) {
    best = { module: new Int32Array(n), numModules: n > 0 ? 1 : 0, codelength: oneLevel };
  }
  // order modules by decreasing flow (ties by first node)
  const mFlow = new Float64Array(best.numModules);
  const first = new Int32Array(best.numModules).fill(-1);
  for (let i = 0; i < n; i++) {
    const m = best.module[i];
    mFlow[m] += graph.flow[i];
    if (first[m] < 0) first[m] = i;
  }
  const order = Array.from({ length: best.numModules }, (_, m) => m);
  order.sort((a, b) => mFlow[b] - mFlow[a] || first[a] - first[b]);
  const rank = new Int32Array(best.numModules);
  order.forEach((m, r) => (rank[m] = r));
  const modules = new Int32Array(n);
  for (let i = 0; i < n; i++) modules[i] = rank[best.module[i]];
  return {
    nodeIds,
    modules,
    numModules: best.numModules,
    moduleFlow: Float64Array.from(order, (m) => mFlow[m]),
    codelength: best.codelength,
    oneLevelCodelength: oneLevel,
    flow: graph.flow,
  };
}

/**
 * The two-level codelength of a given partition under the same flow model as
 * {@link infomap}: a way to compare partitions found by other tools on equal terms.
 *
 * @param links The weighted links.
 * @param moduleOfNode Module of each node id (indexed by node id; ids not in a link are
 *   ignored).
 * @param options Flow model (`directed`, `teleportationProbability`).
 * @returns The codelength in bits.
 *
 * @example
 * ```ts
 * import { codelengthOf } from "./infomap.ts";
 * const links = { source: [0, 1], target: [1, 0], weight: [1, 1] };
 * console.log(codelengthOf(links, [0, 0], { directed: false })); // 1
 * ```
 */
export function codelengthOf(
  links: LinkList,
  moduleOfNode: ArrayLike<number>,
  options: Pick<InfomapOptions, "directed" | "teleportationProbability"> = {},
): number {
  const { graph, nodeIds } = buildFlowGraph(links, {
    directed: options.directed ?? true,
    teleportationProbability: options.teleportationProbability,
  });
  const map = new Map<number, number>();
  const module = new Int32Array(graph.n);
  for (let i = 0; i < graph.n; i++) {
    const m = moduleOfNode[nodeIds[i]];
    let c = map.get(m);
    if (c === undefined) {
      c = map.size;
      map.set(m, c);
    }
    module[i] = c;
  }
  let nodeFlowLogFlow = 0;
  for (let i = 0; i < graph.n; i++) nodeFlowLogFlow += plogp(graph.flow[i]);
  return partitionCodelength(graph, module, nodeFlowLogFlow);
}
