/**
 * The two-level map equation search: the core loop with incremental codelength deltas,
 * aggregation, fine and coarse tuning.
 *
 * @module
 */

import { type FlowGraph, graphFromRows } from "./flow_graph.ts";
import type { Prng } from "./prng.ts";

/**
 * `x * log2(x)`, 0 for x = 0.
 *
 * @param x A non-negative number.
 * @returns x·log2(x).
 *
 * @example
 * ```ts
 * import { plogp } from "./search.ts";
 * console.log(plogp(0.5)); // -0.5
 * ```
 */
export function plogp(x: number): number {
  return x > 0 ? x * Math.log2(x) : 0;
}

const MIN_SINGLE_NODE_IMPROVEMENT = 1e-16;
const MIN_CODELENGTH_IMPROVEMENT = 1e-10;

/** Limits of the search. */
export interface SearchLimits {
  /** Core loops on the leaf level. */
  coreLoopLimit: number;
  /** Core loops on aggregated levels. */
  aggregatedCoreLoopLimit: number;
  /** Tuning iterations (fine or coarse) at most. */
  tuneIterationLimit: number;
}

/** Reusable per-size scratch arrays of the core loop. */
class Scratch {
  mark: Int32Array;
  outTo: Float64Array;
  inFrom: Float64Array;
  touched: Int32Array;
  stamp = 0;
  constructor(n: number) {
    this.mark = new Int32Array(n);
    this.outTo = new Float64Array(n);
    this.inFrom = new Float64Array(n);
    this.touched = new Int32Array(n);
  }
}

/**
 * Codelength of a partition of `g` from module flows (see infomap.md).
 *
 * @param g The graph.
 * @param module Module of each node.
 * @param nodeFlowLogFlow Σ plogp(p) over the leaves.
 * @returns The two-level codelength in bits.
 */
export function partitionCodelength(
  g: FlowGraph,
  module: Int32Array,
  nodeFlowLogFlow: number,
): number {
  const n = g.n;
  const mFlow = new Float64Array(n), mEnter = new Float64Array(n), mExit = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = module[i];
    mFlow[a] += g.flow[i];
    for (let e = g.outStart[i]; e < g.outStart[i + 1]; e++) {
      const b = module[g.outTarget[e]];
      if (b !== a) {
        mExit[a] += g.outFlow[e];
        mEnter[b] += g.outFlow[e];
      }
    }
  }
  return codelengthOf(mFlow, mEnter, mExit, nodeFlowLogFlow);
}

function codelengthOf(
  mFlow: Float64Array,
  mEnter: Float64Array,
  mExit: Float64Array,
  nodeFlowLogFlow: number,
): number {
  let enterSum = 0, sEnter = 0, sExit = 0, sExitFlow = 0;
  for (let m = 0; m < mFlow.length; m++) {
    if (mFlow[m] === 0 && mEnter[m] === 0 && mExit[m] === 0) continue;
    enterSum += mEnter[m];
    sEnter += plogp(mEnter[m]);
    sExit += plogp(mExit[m]);
    sExitFlow += plogp(mExit[m] + mFlow[m]);
  }
  return plogp(enterSum) - sEnter - sExit + sExitFlow - nodeFlowLogFlow;
}

/**
 * Moves single nodes of `g` between modules while that lowers the codelength.
 * `module` holds the starting module of each node (ids below `g.n`) and is updated.
 *
 * @returns The codelength of the final partition.
 */
function coreLoop(
  g: FlowGraph,
  module: Int32Array,
  nodeFlowLogFlow: number,
  loopLimit: number,
  rng: Prng,
): number {
  // the Infomap core loop, over 80 lines on purpose: the hot loop moves nodes between
  // modules with the map equation's deltas kept in typed arrays; split into calls it is slower
  const n = g.n;
  const { flow, enter, exit, outStart, outTarget, outFlow, inStart, inSource, inFlow } = g;
  const mFlow = new Float64Array(n), mEnter = new Float64Array(n), mExit = new Float64Array(n);
  const mSize = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = module[i];
    mFlow[a] += flow[i];
    mSize[a]++;
    for (let e = outStart[i]; e < outStart[i + 1]; e++) {
      const b = module[outTarget[e]];
      if (b !== a) {
        mExit[a] += outFlow[e];
        mEnter[b] += outFlow[e];
      }
    }
  }
  const empty = new Int32Array(n);
  let numEmpty = 0;
  for (let m = n - 1; m >= 0; m--) if (mSize[m] === 0) empty[numEmpty++] = m;
  let enterSum = 0;
  for (let m = 0; m < n; m++) enterSum += mEnter[m];
  let L = codelengthOf(mFlow, mEnter, mExit, nodeFlowLogFlow);
  const s = new Scratch(n);
  const { mark, outTo, inFrom, touched } = s;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const dirty = new Uint8Array(n).fill(1);
  let stamp = 0;
  for (let loop = 0; loop < loopLimit; loop++) {
    rng.shuffle(order);
    let moved = 0;
    const before = L;
    for (let oi = 0; oi < n; oi++) {
      const i = order[oi];
      if (!dirty[i]) continue;
      dirty[i] = 0;
      const a = module[i];
      stamp++;
      let nt = 0;
      for (let e = outStart[i]; e < outStart[i + 1]; e++) {
        const m = module[outTarget[e]];
        if (mark[m] !== stamp) {
          mark[m] = stamp;
          outTo[m] = 0;
          inFrom[m] = 0;
          touched[nt++] = m;
        }
        outTo[m] += outFlow[e];
      }
      for (let e = inStart[i]; e < inStart[i + 1]; e++) {
        const m = module[inSource[e]];
        if (mark[m] !== stamp) {
          mark[m] = stamp;
          outTo[m] = 0;
          inFrom[m] = 0;
          touched[nt++] = m;
        }
        inFrom[m] += inFlow[e];
      }
      if (nt === 0) continue;
      const pi = flow[i], qi = enter[i], ei = exit[i];
      const dA = mark[a] === stamp ? outTo[a] + inFrom[a] : 0;
      const qa = mEnter[a], ea = mExit[a], pa = mFlow[a];
      const qa2 = qa - qi + dA, ea2 = ea - ei + dA, pa2 = pa - pi;
      const oldPart = -plogp(qa2) + plogp(qa) - plogp(ea2) + plogp(ea) + plogp(ea2 + pa2) -
        plogp(ea + pa);
      const base = plogp(enterSum);
      let bestD = -MIN_SINGLE_NODE_IMPROVEMENT, bestM = -1, bestDelta = 0;
      for (let t = 0; t < nt; t++) {
        const m = touched[t];
        if (m === a) continue;
        const dB = outTo[m] + inFrom[m];
        const qb = mEnter[m], eb = mExit[m], pb = mFlow[m];
        const qb2 = qb + qi - dB, eb2 = eb + ei - dB;
        const d = plogp(enterSum + dA - dB) - base + oldPart - plogp(qb2) + plogp(qb) -
          plogp(eb2) + plogp(eb) + plogp(eb2 + pb + pi) - plogp(eb + pb);
        if (d < bestD || (d === bestD && bestM >= 0 && dB > bestDelta)) {
          bestD = d;
          bestM = m;
          bestDelta = dB;
        }
      }
      if (mSize[a] > 1 && numEmpty > 0) {
        const d = plogp(enterSum + dA) - base + oldPart - plogp(qi) - plogp(ei) + plogp(ei + pi);
        if (d < bestD) {
          bestD = d;
          bestM = empty[numEmpty - 1];
          bestDelta = 0;
        }
      }
      if (bestM < 0) continue;
      const b = bestM;
      if (mSize[b] === 0) numEmpty--; // b is the top of the empty stack
      enterSum += dA - bestDelta;
      mEnter[a] = qa2;
      mExit[a] = ea2;
      mFlow[a] = pa2;
      mEnter[b] += qi - bestDelta;
      mExit[b] += ei - bestDelta;
      mFlow[b] += pi;
      mSize[a]--;
      mSize[b]++;
      if (mSize[a] === 0) {
        empty[numEmpty++] = a;
        mEnter[a] = 0;
        mExit[a] = 0;
        mFlow[a] = 0;
      }
      module[i] = b;
      L += bestD;
      moved++;
      for (let e = outStart[i]; e < outStart[i + 1]; e++) dirty[outTarget[e]] = 1;
      for (let e = inStart[i]; e < inStart[i + 1]; e++) dirty[inSource[e]] = 1;
    }
    L = codelengthOf(mFlow, mEnter, mExit, nodeFlowLogFlow);
    if (moved === 0 || before - L <= MIN_CODELENGTH_IMPROVEMENT) break;
  }
  return L;
}

/** Renumbers module ids to 0..M-1 in order of first appearance; returns M. */
function renumber(module: Int32Array): number {
  const map = new Map<number, number>();
  for (let i = 0; i < module.length; i++) {
    let m = map.get(module[i]);
    if (m === undefined) {
      m = map.size;
      map.set(module[i], m);
    }
    module[i] = m;
  }
  return map.size;
}

/**
 * The network of modules: one node per module, flows between modules summed into links.
 *
 * @param g The graph.
 * @param module Module of each node, ids `0..numModules-1`.
 * @param numModules Number of modules.
 * @returns The aggregated graph.
 */
export function aggregate(g: FlowGraph, module: Int32Array, numModules: number): FlowGraph {
  const n = g.n;
  const memStart = new Int32Array(numModules + 1);
  for (let i = 0; i < n; i++) memStart[module[i] + 1]++;
  for (let m = 0; m < numModules; m++) memStart[m + 1] += memStart[m];
  const pos = memStart.slice(0, numModules);
  const members = new Int32Array(n);
  for (let i = 0; i < n; i++) members[pos[module[i]]++] = i;
  const flow = new Float64Array(numModules);
  const acc = new Float64Array(numModules);
  const seen = new Int32Array(numModules).fill(-1);
  const list = new Int32Array(numModules);
  let cap = Math.max(16, g.outTarget.length >> 1);
  let target = new Int32Array(cap);
  let lflow = new Float64Array(cap);
  const start = new Int32Array(numModules + 1);
  let o = 0;
  for (let m = 0; m < numModules; m++) {
    start[m] = o;
    let nl = 0;
    for (let x = memStart[m]; x < memStart[m + 1]; x++) {
      const i = members[x];
      flow[m] += g.flow[i];
      for (let e = g.outStart[i]; e < g.outStart[i + 1]; e++) {
        const b = module[g.outTarget[e]];
        if (b === m) continue;
        if (seen[b] !== m) {
          seen[b] = m;
          acc[b] = 0;
          list[nl++] = b;
        }
        acc[b] += g.outFlow[e];
      }
    }
    if (o + nl > cap) {
      cap = Math.max(cap * 2, o + nl);
      const t2 = new Int32Array(cap);
      t2.set(target.subarray(0, o));
      target = t2;
      const f2 = new Float64Array(cap);
      f2.set(lflow.subarray(0, o));
      lflow = f2;
    }
    for (let t = 0; t < nl; t++) {
      target[o] = list[t];
      lflow[o++] = acc[list[t]];
    }
  }
  start[numModules] = o;
  return graphFromRows(numModules, start, target.subarray(0, o), lflow.subarray(0, o), flow);
}

/**
 * Steps 1–3 of the search from a starting state: the core loop on `active` (whose node j
 * holds the leaves `l` with `leafToActive[l] === j`, all leaves if null), then repeated
 * aggregation and core loops until no modules merge. Writes the leaves' modules into
 * `leafModule` and returns the codelength.
 */
function searchLevels(
  leafModule: Int32Array,
  active: FlowGraph,
  activeModule: Int32Array,
  leafToActive: Int32Array | null,
  firstLimit: number,
  nodeFlowLogFlow: number,
  limits: SearchLimits,
  rng: Prng,
): number {
  let L = coreLoop(active, activeModule, nodeFlowLogFlow, firstLimit, rng);
  let M = renumber(activeModule);
  for (let l = 0; l < leafModule.length; l++) {
    leafModule[l] = activeModule[leafToActive ? leafToActive[l] : l];
  }
  let g = active, mod = activeModule;
  while (M > 1 && M < g.n) {
    const agg = aggregate(g, mod, M);
    const aggModule = new Int32Array(M);
    for (let i = 0; i < M; i++) aggModule[i] = i;
    const L2 = coreLoop(agg, aggModule, nodeFlowLogFlow, limits.aggregatedCoreLoopLimit, rng);
    const M2 = renumber(aggModule);
    if (M2 === M) break;
    for (let l = 0; l < leafModule.length; l++) leafModule[l] = aggModule[leafModule[l]];
    g = agg;
    mod = aggModule;
    M = M2;
    L = L2;
  }
  return L;
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

function sumPlogp(flow: Float64Array): number {
  let s = 0;
  for (let i = 0; i < flow.length; i++) s += plogp(flow[i]);
  return s;
}

/** The sub-network of the nodes `members` of `g`, flows renormalised to sum to 1. */
function subGraph(g: FlowGraph, members: Int32Array, local: Int32Array): FlowGraph {
  const k = members.length;
  let total = 0;
  for (let x = 0; x < k; x++) {
    local[members[x]] = x;
    total += g.flow[members[x]];
  }
  const scale = total > 0 ? 1 / total : 1;
  const flow = new Float64Array(k);
  const start = new Int32Array(k + 1);
  const tg: number[] = [];
  const fl: number[] = [];
  for (let x = 0; x < k; x++) {
    const i = members[x];
    flow[x] = g.flow[i] * scale;
    start[x] = tg.length;
    for (let e = g.outStart[i]; e < g.outStart[i + 1]; e++) {
      const j = g.outTarget[e];
      const lj = local[j];
      if (lj >= 0 && lj < k && members[lj] === j) {
        tg.push(lj);
        fl.push(g.outFlow[e] * scale);
      }
    }
  }
  start[k] = tg.length;
  for (let x = 0; x < k; x++) local[members[x]] = -1;
  return graphFromRows(k, start, Int32Array.from(tg), Float64Array.from(fl), flow);
}

/**
 * Coarse tune: find sub-modules inside every module, make them the active nodes starting
 * in their old modules, and search from there.
 */
function coarseTune(
  g: FlowGraph,
  leafModule: Int32Array,
  nodeFlowLogFlow: number,
  limits: SearchLimits,
  rng: Prng,
): number {
  const n = g.n;
  const M = renumber(leafModule);
  const memStart = new Int32Array(M + 1);
  for (let i = 0; i < n; i++) memStart[leafModule[i] + 1]++;
  for (let m = 0; m < M; m++) memStart[m + 1] += memStart[m];
  const pos = memStart.slice(0, M);
  const members = new Int32Array(n);
  for (let i = 0; i < n; i++) members[pos[leafModule[i]]++] = i;
  const subModule = new Int32Array(n);
  const local = new Int32Array(n).fill(-1);
  let next = 0;
  for (let m = 0; m < M; m++) {
    const mem = members.subarray(memStart[m], memStart[m + 1]);
    if (mem.length === 1) {
      subModule[mem[0]] = next++;
      continue;
    }
    const sub = subGraph(g, mem, local);
    const subLeaf = new Int32Array(sub.n);
    searchLevels(
      subLeaf,
      sub,
      identity(sub.n),
      null,
      limits.coreLoopLimit,
      sumPlogp(sub.flow),
      limits,
      rng,
    );
    const k = renumber(subLeaf);
    for (let x = 0; x < mem.length; x++) subModule[mem[x]] = next + subLeaf[x];
    next += k;
  }
  const agg = aggregate(g, subModule, next);
  const aggModule = new Int32Array(next);
  for (let i = 0; i < n; i++) aggModule[subModule[i]] = leafModule[i];
  return searchLevels(
    leafModule,
    agg,
    aggModule,
    subModule,
    limits.aggregatedCoreLoopLimit,
    nodeFlowLogFlow,
    limits,
    rng,
  );
}

/** The outcome of one two-level search. */
export interface SearchResult {
  /** Module of each node, ids `0..numModules-1`. */
  module: Int32Array;
  /** Number of modules. */
  numModules: number;
  /** Two-level codelength in bits. */
  codelength: number;
}

/**
 * One trial of the two-level search with fine and coarse tuning on `g`.
 *
 * @param g The graph.
 * @param oneLevel The one-level codelength of `g`.
 * @param limits Search limits.
 * @param rng Random order of the core loop.
 * @returns The partition and its codelength.
 */
export function twoLevelSearch(
  g: FlowGraph,
  oneLevel: number,
  limits: SearchLimits,
  rng: Prng,
): SearchResult {
  const nodeFlowLogFlow = sumPlogp(g.flow);
  const leafModule = new Int32Array(g.n);
  let L = searchLevels(
    leafModule,
    g,
    identity(g.n),
    null,
    limits.coreLoopLimit,
    nodeFlowLogFlow,
    limits,
    rng,
  );
  let fine = true, coarseTried = false;
  for (let it = 0; it < limits.tuneIterationLimit; it++) {
    const old = L;
    if (fine) {
      L = searchLevels(
        leafModule,
        g,
        leafModule.slice(),
        null,
        limits.coreLoopLimit,
        nodeFlowLogFlow,
        limits,
        rng,
      );
    } else {
      L = coarseTune(g, leafModule, nodeFlowLogFlow, limits, rng);
      coarseTried = true;
    }
    fine = !fine;
    const gain = old - L;
    if (coarseTried && !(gain >= MIN_CODELENGTH_IMPROVEMENT && gain > 1e-5 * oneLevel)) break;
  }
  const numModules = renumber(leafModule);
  L = partitionCodelength(g, leafModule, nodeFlowLogFlow);
  return { module: leafModule, numModules, codelength: L };
}
