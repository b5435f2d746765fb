/**
 * Weighted link lists and the flow graphs Infomap searches: node visit rates and link
 * flows for the directed (PageRank with teleportation to links, unrecorded) and the
 * undirected flow models.
 *
 * @module
 */

import { InputError } from "../errors.ts";

/**
 * A weighted link list over integer node ids: link `i` goes from `source[i]` to
 * `target[i]` with weight `weight[i]`.
 */
export interface LinkList {
  /** Source node ids (non-negative integers). */
  source: ArrayLike<number>;
  /** Target node ids (non-negative integers). */
  target: ArrayLike<number>;
  /** Link weights (finite, non-negative). */
  weight: ArrayLike<number>;
}

/**
 * A network with flow, in compressed sparse rows both ways. Self-links are left out of
 * the rows (they count in the node flow only). Node ids are `0..n-1`.
 */
export interface FlowGraph {
  /** Number of nodes. */
  n: number;
  /** Visit rate of each node. */
  flow: Float64Array;
  /** Flow on out-links to other nodes, summed per node. */
  exit: Float64Array;
  /** Flow on in-links from other nodes, summed per node. */
  enter: Float64Array;
  /** Row starts of the out-links (length n + 1). */
  outStart: Int32Array;
  /** Out-link targets. */
  outTarget: Int32Array;
  /** Out-link flows. */
  outFlow: Float64Array;
  /** Row starts of the in-links (length n + 1). */
  inStart: Int32Array;
  /** In-link sources. */
  inSource: Int32Array;
  /** In-link flows. */
  inFlow: Float64Array;
}

/** Options of {@link buildFlowGraph}. */
export interface FlowOptions {
  /** Directed flow (teleportation to links, unrecorded) instead of undirected. @default true */
  directed?: boolean;
  /** Teleportation probability of the directed model. @default 0.15 */
  teleportationProbability?: number;
}

/** A flow graph and the original id of each of its nodes. */
export interface BuiltFlowGraph {
  /** The graph over compact ids `0..n-1`. */
  graph: FlowGraph;
  /** Original node id of each compact id, in increasing order. */
  nodeIds: Int32Array;
}

/**
 * Sorts links by (source, target), sums duplicates, and returns them in rows.
 * Returns CSR arrays over compact ids.
 */
function mergedRows(
  n: number,
  src: Int32Array,
  tgt: Int32Array,
  w: Float64Array,
): { start: Int32Array; target: Int32Array; weight: Float64Array } {
  const m = src.length;
  const count = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) count[src[e] + 1]++;
  for (let i = 0; i < n; i++) count[i + 1] += count[i];
  const pos = count.slice(0, n);
  const rowT = new Int32Array(m);
  const rowW = new Float64Array(m);
  for (let e = 0; e < m; e++) {
    const p = pos[src[e]]++;
    rowT[p] = tgt[e];
    rowW[p] = w[e];
  }
  // sort each row by target (insertion sort for short rows), then merge duplicates
  const start = new Int32Array(n + 1);
  let out = 0;
  const idx: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = count[i], b = count[i + 1];
    start[i] = out;
    if (b - a <= 48) {
      for (let x = a + 1; x < b; x++) {
        const t = rowT[x], ww = rowW[x];
        let y = x - 1;
        while (y >= a && rowT[y] > t) {
          rowT[y + 1] = rowT[y];
          rowW[y + 1] = rowW[y];
          y--;
        }
        rowT[y + 1] = t;
        rowW[y + 1] = ww;
      }
    } else {
      idx.length = 0;
      for (let x = a; x < b; x++) idx.push(x);
      idx.sort((p, q) => rowT[p] - rowT[q]);
      const tt = idx.map((p) => rowT[p]), wv = idx.map((p) => rowW[p]);
      for (let x = a; x < b; x++) {
        rowT[x] = tt[x - a];
        rowW[x] = wv[x - a];
      }
    }
    for (let x = a; x < b; x++) {
      if (out > start[i] && rowT[out - 1] === rowT[x]) rowW[out - 1] += rowW[x];
      else {
        rowT[out] = rowT[x];
        rowW[out] = rowW[x];
        out++;
      }
    }
  }
  start[n] = out;
  return { start, target: rowT.subarray(0, out), weight: rowW.subarray(0, out) };
}

/**
 * Builds the search graph from per-node rows of link flows that may include self-links.
 *
 * @param n Number of nodes.
 * @param start Row starts of the out-links.
 * @param target Link targets.
 * @param linkFlow Flow on each link.
 * @param flow Node visit rates.
 * @returns The graph, self-links left out of its rows.
 */
export function graphFromRows(
  n: number,
  start: Int32Array,
  target: Int32Array,
  linkFlow: Float64Array,
  flow: Float64Array,
): FlowGraph {
  let m = 0;
  for (let i = 0; i < n; i++) {
    for (let e = start[i]; e < start[i + 1]; e++) if (target[e] !== i) m++;
  }
  const outStart = new Int32Array(n + 1);
  const outTarget = new Int32Array(m);
  const outFlow = new Float64Array(m);
  const exit = new Float64Array(n);
  const enter = new Float64Array(n);
  const inCount = new Int32Array(n + 1);
  let o = 0;
  for (let i = 0; i < n; i++) {
    outStart[i] = o;
    for (let e = start[i]; e < start[i + 1]; e++) {
      const j = target[e];
      if (j === i) continue;
      outTarget[o] = j;
      outFlow[o] = linkFlow[e];
      exit[i] += linkFlow[e];
      enter[j] += linkFlow[e];
      inCount[j + 1]++;
      o++;
    }
  }
  outStart[n] = o;
  for (let i = 0; i < n; i++) inCount[i + 1] += inCount[i];
  const inStart = inCount;
  const pos = inStart.slice(0, n);
  const inSource = new Int32Array(m);
  const inFlow = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    for (let e = outStart[i]; e < outStart[i + 1]; e++) {
      const p = pos[outTarget[e]]++;
      inSource[p] = i;
      inFlow[p] = outFlow[e];
    }
  }
  return { n, flow, exit, enter, outStart, outTarget, outFlow, inStart, inSource, inFlow };
}

/**
 * Directed flow: PageRank with teleportation to links (proportional to out-strength),
 * then one unrecorded step without teleportation.
 */
function directedFlow(
  n: number,
  start: Int32Array,
  target: Int32Array,
  weight: Float64Array,
  teleport: number,
): { flow: Float64Array; linkFlow: Float64Array } {
  const outW = new Float64Array(n);
  let totalW = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let e = start[i]; e < start[i + 1]; e++) s += weight[e];
    outW[i] = s;
    totalW += s;
  }
  const tau = new Float64Array(n);
  for (let i = 0; i < n; i++) tau[i] = outW[i] / totalW;
  // transition probabilities per link
  const trans = new Float64Array(weight.length);
  for (let i = 0; i < n; i++) {
    for (let e = start[i]; e < start[i + 1]; e++) trans[e] = weight[e] / outW[i];
  }
  let p = new Float64Array(n).fill(1 / n);
  let next = new Float64Array(n);
  let alpha = teleport;
  let beta = 1 - alpha;
  let prevErr = Infinity;
  let dangling = 0;
  for (let iter = 0; iter < 400; iter++) {
    dangling = 0;
    for (let i = 0; i < n; i++) if (outW[i] === 0) dangling += p[i];
    const tele = alpha + beta * dangling;
    for (let j = 0; j < n; j++) next[j] = tele * tau[j];
    for (let i = 0; i < n; i++) {
      const pi = beta * p[i];
      if (pi === 0) continue;
      for (let e = start[i]; e < start[i + 1]; e++) next[target[e]] += pi * trans[e];
    }
    let sum = 0;
    for (let j = 0; j < n; j++) sum += next[j];
    if (Math.abs(sum - 1) > 1e-10) { for (let j = 0; j < n; j++) next[j] /= sum; }
    let err = 0;
    for (let j = 0; j < n; j++) err += Math.abs(next[j] - p[j]);
    const t = p;
    p = next;
    next = t;
    if (iter + 1 >= 50 && err <= 1e-15) break;
    if (Math.abs(err - prevErr) < 1e-17) {
      alpha += 1e-12;
      beta = 1 - alpha;
    }
    prevErr = err;
  }
  dangling = 0;
  for (let i = 0; i < n; i++) if (outW[i] === 0) dangling += p[i];
  const norm = 1 - dangling;
  const linkFlow = new Float64Array(weight.length);
  const flow = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let e = start[i]; e < start[i + 1]; e++) {
      const f = (p[i] * trans[e]) / norm;
      linkFlow[e] = f;
      flow[target[e]] += f;
    }
  }
  return { flow, linkFlow };
}

/**
 * Builds the flow graph of a weighted link list. Duplicate links are summed; nodes are
 * the ids that occur in a link. Undirected: each link carries flow w/W, half each way,
 * and node flow is the weighted degree over 2W. Directed: PageRank with teleportation to
 * links (α = 0.15) and unrecorded teleportation, as Infomap's default.
 *
 * @param links The links.
 * @param options Flow model.
 * @returns The graph and the original id of each node.
 * @throws {InputError} On negative or non-integer ids, or negative or non-finite weights.
 *
 * @example
 * ```ts
 * import { buildFlowGraph } from "./flow_graph.ts";
 * const { graph } = buildFlowGraph({ source: [0, 1], target: [1, 0], weight: [1, 1] });
 * console.log(graph.n, graph.flow[0]); // 2 0.5
 * ```
 */
export function buildFlowGraph(links: LinkList, options: FlowOptions = {}): BuiltFlowGraph {
  // one function over 80 lines on purpose: the node ids, the CSR arrays and the flow
  // model (teleportation, power iteration) are built in one pass over the same arrays
  const directed = options.directed ?? true;
  const m = links.source.length;
  if (links.target.length !== m || links.weight.length !== m) {
    throw new InputError("links", "source, target and weight differ in length");
  }
  let maxId = -1;
  for (let e = 0; e < m; e++) {
    const s = links.source[e], t = links.target[e], w = links.weight[e];
    if (!Number.isInteger(s) || !Number.isInteger(t) || s < 0 || t < 0) {
      throw new InputError("links", `link ${e}: node ids must be non-negative integers`);
    }
    if (!Number.isFinite(w) || w < 0) {
      throw new InputError("links", `link ${e}: weight ${w} is not a finite non-negative number`);
    }
    if (s > maxId) maxId = s;
    if (t > maxId) maxId = t;
  }
  // compact ids in increasing order
  const used = new Uint8Array(maxId + 1);
  for (let e = 0; e < m; e++) {
    if (links.weight[e] > 0) {
      used[links.source[e]] = 1;
      used[links.target[e]] = 1;
    }
  }
  const compact = new Int32Array(maxId + 1).fill(-1);
  let n = 0;
  for (let id = 0; id <= maxId; id++) if (used[id]) compact[id] = n++;
  const nodeIds = new Int32Array(n);
  for (let id = 0; id <= maxId; id++) if (used[id]) nodeIds[compact[id]] = id;
  let mm = 0;
  for (let e = 0; e < m; e++) if (links.weight[e] > 0) mm++;
  const size = directed ? mm : 2 * mm;
  const src = new Int32Array(size), tgt = new Int32Array(size);
  const w = new Float64Array(size);
  let k = 0;
  for (let e = 0; e < m; e++) {
    const ww = links.weight[e];
    if (!(ww > 0)) continue;
    const s = compact[links.source[e]], t = compact[links.target[e]];
    if (directed) {
      src[k] = s;
      tgt[k] = t;
      w[k++] = ww;
    } else {
      // half each way; a self-link keeps its whole weight on one row
      src[k] = s;
      tgt[k] = t;
      w[k++] = ww;
      src[k] = t;
      tgt[k] = s;
      w[k++] = s === t ? 0 : ww;
    }
  }
  const rows = mergedRows(n, src.subarray(0, k), tgt.subarray(0, k), w.subarray(0, k));
  let flow: Float64Array, linkFlow: Float64Array;
  if (directed) {
    ({ flow, linkFlow } = directedFlow(
      n,
      rows.start,
      rows.target,
      rows.weight,
      options.teleportationProbability ?? 0.15,
    ));
  } else {
    let total = 0;
    for (let e = 0; e < rows.weight.length; e++) total += rows.weight[e];
    // total counts each non-self link twice, each self-link once
    linkFlow = new Float64Array(rows.weight.length);
    flow = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let e = rows.start[i]; e < rows.start[i + 1]; e++) {
        const j = rows.target[e];
        const f = j === i ? (2 * rows.weight[e]) / total : rows.weight[e] / total;
        linkFlow[e] = f;
        flow[j] += f;
      }
    }
    // self-links were given 2w/total; renormalise so that node flows sum to 1
    let sum = 0;
    for (let i = 0; i < n; i++) sum += flow[i];
    if (Math.abs(sum - 1) > 1e-12) {
      for (let i = 0; i < n; i++) flow[i] /= sum;
      for (let e = 0; e < linkFlow.length; e++) linkFlow[e] /= sum;
    }
  }
  return { graph: graphFromRows(n, rows.start, rows.target, linkFlow, flow), nodeIds };
}
