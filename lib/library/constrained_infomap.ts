/**
 * Infomap under the user's decisions. Must-link: the faces pinned to one person are
 * contracted into one node whose links are the sum of its members'. Cannot-link (two faces
 * of one photo, a face the user said is not a person, two different persons' pinned faces):
 * links across one are dropped before Infomap, and a module that still joins the two sides
 * is split after it, each node going to the part it is most linked to that it does not
 * conflict with.
 *
 * @module
 */

import { infomap } from "../infomap/infomap.ts";
import type { Links } from "../knn/links.ts";

/** The constraints over rows `0..n-1`. */
export interface RowConstraints {
  /** Each row's photo (rows of one photo cannot share a module unless pinned together). */
  photo: Int32Array;
  /** Each row's pinned group (one per person), or −1. */
  group: Int32Array;
  /** For some rows, the groups they may not join ("not this person"). */
  cannot: Map<number, Set<number>>;
}

/** What {@link constrainedInfomap} found. */
export interface ConstrainedModules {
  /** Module of each row (−1: a face alone); every group's rows share one module. */
  module: Int32Array;
  /** Number of modules. */
  count: number;
  /** Modules that had to be split after Infomap. */
  splits: number;
  /** Links dropped before Infomap (across a cannot-link). */
  dropped: number;
}

/**
 * How the faces the user put in one person are kept together: "contract" makes them one
 * node (its links the sum of theirs), "tie" chains them with links of weight 1 and moves
 * any that Infomap left elsewhere to the module holding most of them.
 */
export type MustLink = "contract" | "tie";

/** A node of the graph: a pinned group (contracted) or a row. */
interface NodeInfo {
  group: number;
  photos: Set<number>;
  cannot: Set<number>;
}

/**
 * Clusters rows linked by `links` under the constraints.
 *
 * @param n Rows.
 * @param links Directed links over rows.
 * @param c The constraints.
 * @param seed Infomap's seed.
 * @returns Each row's module.
 *
 * @example
 * ```ts
 * import { constrainedInfomap } from "./constrained_infomap.ts";
 * // rows 0 and 1 come from one photo: never one module
 * const r = constrainedInfomap(2, {
 *   source: new Int32Array([0, 1]), target: new Int32Array([1, 0]), weight: new Float32Array([0.9, 0.9]),
 * }, { photo: new Int32Array([5, 5]), group: new Int32Array([-1, -1]), cannot: new Map() });
 * console.log(r.module[0] !== r.module[1]); // true
 * ```
 */
export function constrainedInfomap(
  n: number,
  links: Links,
  c: RowConstraints,
  seed = 123,
  mustLink: MustLink = "tie",
): ConstrainedModules {
  const { nodeOf, nodes } = buildNodes(n, c, mustLink);
  const conflict = (a: NodeInfo, b: NodeInfo): boolean => {
    if (a.group >= 0 && a.group === b.group) return false; // the user put them together
    if (a.group >= 0 && b.group >= 0) return true;
    if ((a.group >= 0 && b.cannot.has(a.group)) || (b.group >= 0 && a.cannot.has(b.group))) {
      return true;
    }
    const [small, large] = a.photos.size <= b.photos.size ? [a, b] : [b, a];
    for (const p of small.photos) if (large.photos.has(p)) return true;
    return false;
  };
  const src: number[] = [], tgt: number[] = [], w: number[] = [];
  let dropped = 0;
  for (let e = 0; e < links.source.length; e++) {
    const a = nodeOf[links.source[e]], b = nodeOf[links.target[e]];
    if (a === b) continue;
    if (conflict(nodes[a], nodes[b])) {
      dropped++;
      continue;
    }
    src.push(a);
    tgt.push(b);
    w.push(links.weight[e]);
  }
  // "tie": each pinned group's rows chained by links of the largest weight, both ways
  const groups = new Map<number, number[]>();
  nodes.forEach((nd, id) =>
    nd.group >= 0 && groups.set(nd.group, [...(groups.get(nd.group) ?? []), id])
  );
  if (mustLink === "tie") {
    for (const ids of groups.values()) {
      for (let i = 1; i < ids.length; i++) {
        src.push(ids[i - 1], ids[i]);
        tgt.push(ids[i], ids[i - 1]);
        w.push(1, 1);
      }
    }
  }
  const nodeModule = new Int32Array(nodes.length).fill(-1);
  let count = 0;
  if (src.length > 0) {
    const res = infomap({ source: src, target: tgt, weight: w }, { directed: true, seed });
    for (let i = 0; i < res.nodeIds.length; i++) nodeModule[res.nodeIds[i]] = res.modules[i];
    count = res.numModules;
  }
  // a pinned group lies in one module: the one holding most of it (or one of its own)
  for (const ids of groups.values()) {
    const votes = new Map<number, number>();
    for (const id of ids) {
      if (nodeModule[id] >= 0) votes.set(nodeModule[id], (votes.get(nodeModule[id]) ?? 0) + 1);
    }
    let best = -1, most = 0;
    for (const [m, v] of votes) if (v > most || (v === most && m < best)) [best, most] = [m, v];
    if (best < 0) best = count++;
    for (const id of ids) nodeModule[id] = best;
  }
  // split modules that still join two sides of a cannot-link
  const split = splitConflicting(nodeModule, count, nodes, { src, tgt, w }, conflict);
  count = split.count;
  const splits = split.splits;
  const module = new Int32Array(n);
  for (let r = 0; r < n; r++) module[r] = nodeModule[nodeOf[r]];
  return { module, count, splits, dropped };
}

/** Splits the modules that still join two sides of a cannot-link (in place). */
function splitConflicting(
  nodeModule: Int32Array,
  count: number,
  nodes: NodeInfo[],
  e: { src: number[]; tgt: number[]; w: number[] },
  conflict: (a: NodeInfo, b: NodeInfo) => boolean,
): { count: number; splits: number } {
  const { src, tgt, w } = e;
  const adj = new Map<number, Map<number, number>>();
  for (let e = 0; e < src.length; e++) {
    for (const [x, y] of [[src[e], tgt[e]], [tgt[e], src[e]]]) {
      let m = adj.get(x);
      if (!m) adj.set(x, m = new Map());
      m.set(y, (m.get(y) ?? 0) + w[e]);
    }
  }
  const members = new Map<number, number[]>();
  nodeModule.forEach((m, id) => {
    if (m < 0) return;
    const list = members.get(m);
    if (list) list.push(id);
    else members.set(m, [id]);
  });
  let splits = 0;
  for (const [m, ids] of members) {
    if (!hasConflict(ids, nodes)) continue;
    splits++;
    const parts = splitModule(ids, nodes, adj, conflict);
    parts.forEach((part, p) => {
      for (const id of part) nodeModule[id] = p === 0 ? m : count;
      if (p > 0) count++;
    });
  }
  return { count, splits };
}

/** The graph's nodes: one per pinned group ("contract"), or one per row. */
function buildNodes(
  n: number,
  c: RowConstraints,
  mustLink: MustLink,
): { nodeOf: Int32Array; nodes: NodeInfo[] } {
  const nodeOf = new Int32Array(n);
  const groupNode = new Map<number, number>();
  const nodes: NodeInfo[] = [];
  for (let r = 0; r < n; r++) {
    const g = c.group[r];
    let id = g >= 0 && mustLink === "contract" ? groupNode.get(g) : undefined;
    if (id === undefined) {
      id = nodes.length;
      nodes.push({ group: g, photos: new Set(), cannot: new Set() });
      if (g >= 0 && !groupNode.has(g)) groupNode.set(g, id);
    }
    nodeOf[r] = id;
    nodes[id].photos.add(c.photo[r]);
    for (const x of c.cannot.get(r) ?? []) nodes[id].cannot.add(x);
  }
  return { nodeOf, nodes };
}

/** Does a module join two sides of a cannot-link? */
function hasConflict(ids: number[], nodes: NodeInfo[]): boolean {
  const photos = new Map<number, number>(); // photo → the group of its first face (−1: none)
  const cannot = new Set<number>(), pinned = new Set<number>();
  for (const id of ids) {
    const nd = nodes[id];
    for (const p of nd.photos) {
      const seen = photos.get(p);
      if (seen !== undefined && (seen < 0 || seen !== nd.group)) return true;
      photos.set(p, nd.group);
    }
    if (nd.group >= 0) pinned.add(nd.group);
    for (const g of nd.cannot) cannot.add(g);
  }
  if (pinned.size > 1) return true;
  for (const g of pinned) if (cannot.has(g)) return true;
  return false;
}

/**
 * Greedy split: pinned groups first (largest first), then the other nodes by their link
 * weight within the module; each joins the part it is most linked to among those it does
 * not conflict with, or starts a part.
 */
function splitModule(
  ids: number[],
  nodes: NodeInfo[],
  adj: Map<number, Map<number, number>>,
  conflict: (a: NodeInfo, b: NodeInfo) => boolean,
): number[][] {
  const inModule = new Set(ids);
  const strength = new Map<number, number>();
  for (const id of ids) {
    let s = 0;
    for (const [o, wt] of adj.get(id) ?? []) if (inModule.has(o)) s += wt;
    strength.set(id, s);
  }
  const order = [...ids].sort((a, b) => {
    const ga = nodes[a].group >= 0 ? 1 : 0, gb = nodes[b].group >= 0 ? 1 : 0;
    if (ga !== gb) return gb - ga;
    if (ga) return nodes[a].group - nodes[b].group || a - b;
    return strength.get(b)! - strength.get(a)! || a - b;
  });
  const parts: number[][] = [];
  const partOf = new Map<number, number>();
  const partOfGroup = new Map<number, number>();
  for (const id of order) {
    const g = nodes[id].group;
    if (g >= 0 && partOfGroup.has(g)) {
      parts[partOfGroup.get(g)!].push(id);
      partOf.set(id, partOfGroup.get(g)!);
      continue;
    }
    const toPart = new Map<number, number>();
    for (const [o, wt] of adj.get(id) ?? []) {
      const p = partOf.get(o);
      if (p !== undefined) toPart.set(p, (toPart.get(p) ?? 0) + wt);
    }
    let best = -1, bw = 0;
    for (const [p, wt] of toPart) {
      if (wt <= bw) continue;
      if (parts[p].some((o) => conflict(nodes[o], nodes[id]))) continue;
      best = p;
      bw = wt;
    }
    if (best < 0) {
      best = parts.length;
      parts.push([]);
    }
    parts[best].push(id);
    partOf.set(id, best);
    if (g >= 0) partOfGroup.set(g, best);
  }
  // the largest part keeps the module's number
  return parts.sort((a, b) => b.length - a.length);
}
