/**
 * The people stage of the library: every clusterable face re-clustered (kNN lists brought up
 * to date, the link rule, Infomap under the user's constraints), then the modules matched to
 * the stored persons so that ids do not move: a module holding a person's pinned faces is
 * that person; the others by the number of faces shared with a person's previous faces
 * (greedy, largest overlap first), then by the cosine of their mean to a person left
 * without faces; only the rest become new persons (ids never reused).
 *
 * @module
 */

import { linksFromKnn } from "../knn/links.ts";
import type { KnnBackend } from "../knn/types.ts";
import { constrainedInfomap } from "./constrained_infomap.ts";
import { type NeighbourSummary, updateNeighbours } from "./neighbours.ts";
import type { Assignment, CannotLink, Clustering, LibraryStore, StoredFace } from "./store.ts";

/** The setting that keeps the last clustering's fingerprint and summary. */
const LAST_CLUSTERING = "last_clustering";

/**
 * A hash of everything a clustering depends on besides the vectors of the faces (which
 * never change for a face id): the clusterable faces, the people and decisions as the
 * assignments hold them, the cannot-links, and the settings.
 */
function fingerprintOf(
  ids: number[],
  assignments: Assignment[],
  cannot: CannotLink[],
  o: ReclusterOptions,
): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193;
  const mix = (x: number) => {
    h1 = Math.imul(h1 ^ (x | 0), 0x01000193);
    h2 = Math.imul(h2 ^ ((x / 4294967296) | 0) ^ (x | 0), 0x5bd1e995) ^ (h2 >>> 15);
  };
  const real = (x: number) => mix(Math.round(x * 1e6));
  mix(ids.length);
  for (const id of ids) mix(id);
  const sorted = [...assignments].sort((a, b) => a.faceId - b.faceId);
  mix(sorted.length);
  for (const a of sorted) {
    mix(a.faceId);
    mix(a.personId ?? -1);
    mix((a.pinned ? 1 : 0) + (a.hard ? 2 : 0));
  }
  const links = [...cannot].sort((a, b) => a.faceId - b.faceId || a.personId - b.personId);
  mix(links.length);
  for (const c of links) {
    mix(c.faceId);
    mix(c.personId);
  }
  for (const x of [o.dims, o.k, o.seed ?? 123]) mix(x);
  real(o.minSim);
  real(o.minQuality);
  if (o.unrecognisable) {
    real(o.unrecognisable.threshold);
    real(o.unrecognisable.faceThreshold ?? 2);
    for (const x of o.unrecognisable.centre) real(x);
  } else mix(-7);
  return `${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}`;
}

/** Options of {@link recluster}. */
export interface ReclusterOptions {
  /** Vector length. */
  dims: number;
  /** Neighbours per face. */
  k: number;
  /** Link threshold. */
  minSim: number;
  /** Faces below this quality stay out (unless the user put them in a person). */
  minQuality: number;
  /** Full kNN searches. */
  knn?: KnnBackend;
  /** Infomap's seed. @default 123 */
  seed?: number;
  /** The library's faces, when the caller has just read them. */
  faces?: StoredFace[];
  /**
   * The unrecognisable-identity centre (see `recognisability.ts`) and the model's threshold:
   * a person whose mean has at least that cosine to it is dissolved, its faces kept apart as
   * hard to recognise. null: no check.
   */
  unrecognisable?: { centre: Float32Array; threshold: number; faceThreshold?: number } | null;
}

/** What {@link recluster} changed. */
export interface ReclusterSummary {
  /** Faces clustered. */
  faces: number;
  /** Persons with faces now. */
  people: number;
  /** Persons created now. */
  newPersons: number[];
  /** Faces that joined each person now (person id → count), new persons included. */
  added: Record<string, number>;
  /** Faces that left each person now. */
  left: Record<string, number>;
  /** Faces that changed person (from one person to another, or to or from none). */
  moved: number;
  /** Modules split after Infomap to honour a cannot-link. */
  splits: number;
  /** Persons dissolved as hard to recognise, and their faces. */
  unrecognisable: { persons: number; faces: number };
  /** Links dropped across a cannot-link before Infomap. */
  dropped: number;
  /** The kNN stage. */
  neighbours: NeighbourSummary;
  /** Seconds: kNN, links and Infomap, matching and storing. */
  seconds: { knn: number; cluster: number; store: number };
}

/**
 * Re-clusters the library's faces and stores the people.
 *
 * @param store The library.
 * @param o Model dims, k, min_sim, the quality gate.
 * @returns What changed.
 *
 * @example
 * ```ts ignore
 * const s = await recluster(store, { dims: 128, k: 80, minSim: 0.45, minQuality: 0.5 });
 * console.log(s.people, s.newPersons);
 * ```
 */
export async function recluster(
  store: LibraryStore,
  o: ReclusterOptions,
): Promise<ReclusterSummary> {
  const faces = o.faces ?? await store.faces();
  const before = await store.assignments();
  const prev = new Map(before.map((a) => [a.faceId, a.personId]));
  const pinnedTo = new Map(before.filter((a) => a.pinned).map((a) => [a.faceId, a.personId!]));
  const chosen = faces.filter((f) =>
    pinnedTo.has(f.id) || (!f.notFace && f.quality >= o.minQuality)
  );
  const ids = chosen.map((f) => f.id);
  const n = ids.length;
  const cannot = await store.cannotLinks();
  // nothing changed since the last clustering (faces, people, decisions, settings): its
  // result stands, as a new run would find it again (Infomap and the matching are
  // deterministic), and an unchanged re-run costs one read instead of kNN and Infomap
  const t0 = performance.now();
  const fingerprint = fingerprintOf(ids, before, cannot, o);
  const last = JSON.parse(await store.setting(LAST_CLUSTERING) ?? "null") as
    | { fingerprint: string; summary: ReclusterSummary }
    | null;
  if (last?.fingerprint === fingerprint && await store.setting("knn_k") === String(o.k)) {
    const seconds = (performance.now() - t0) / 1000;
    return {
      ...last.summary,
      newPersons: [],
      added: {},
      left: {},
      moved: 0,
      neighbours: { faces: n, searched: 0, full: false, backend: "unchanged", seconds },
      seconds: { knn: 0, cluster: 0, store: seconds },
    };
  }
  const vectors = await store.vectors(ids, o.dims);
  const { summary: neighbours, graph } = await updateNeighbours(
    store,
    ids,
    vectors,
    o.dims,
    o.k,
    o.knn,
    o.minSim,
  );
  const t1 = performance.now();
  const cannotOf = new Map<number, Set<number>>();
  const rowOf = new Map(ids.map((id, r) => [id, r]));
  for (const c of cannot) {
    const r = rowOf.get(c.faceId);
    if (r === undefined) continue;
    const set = cannotOf.get(r) ?? new Set<number>();
    set.add(c.personId);
    cannotOf.set(r, set);
  }
  const res = constrainedInfomap(n, linksFromKnn(graph, o.minSim), {
    photo: Int32Array.from(chosen, (f) => f.photoId),
    group: Int32Array.from(chosen, (f) => pinnedTo.get(f.id) ?? -1),
    cannot: cannotOf,
  }, o.seed ?? 123);
  // junk modules are dissolved before persons are matched, so they take no id
  const hard = dissolveUnrecognisable(res.module, chosen, pinnedTo, vectors, o);
  // then faces nobody can recognise, one by one, join nobody (never a face the user put
  // somewhere). They are taken out after Infomap, not before: with their links dropped first
  // (measured on lfw_min10), the rest of a junk module no longer sits near the centre as a
  // whole, and survives the check above as a smaller junk person
  const gated = gateUnrecognisable(vectors, chosen, pinnedTo, o);
  const personOf = matchModules(res.module, res.count, chosen, pinnedTo, prev, vectors, o, [
    ...(await store.persons()),
  ]);
  // "not this person" holds even for a person without pinned faces
  chosen.forEach((f, r) => {
    if (!pinnedTo.has(f.id) && cannotOf.get(r)?.has(personOf[r])) personOf[r] = 0;
  });
  for (const r of gated) {
    personOf[r] = 0;
    hard.rows.add(r);
  }
  const t2 = performance.now();
  const clustering = centroidsAndSimilarities(personOf, chosen, pinnedTo, vectors, o.dims, hard);
  const created = await store.saveClustering(clustering);
  const { people, added, left, moved } = changesOf(chosen, personOf, created, prev, rowOf);
  const summary: ReclusterSummary = {
    faces: n,
    people,
    newPersons: created,
    added,
    left,
    moved,
    splits: res.splits,
    unrecognisable: { persons: hard.persons, faces: hard.rows.size },
    dropped: res.dropped,
    neighbours,
    seconds: {
      knn: neighbours.seconds,
      cluster: (t2 - t1) / 1000,
      store: (performance.now() - t2) / 1000,
    },
  };
  await store.setSetting(
    LAST_CLUSTERING,
    JSON.stringify({
      fingerprint: fingerprintOf(ids, await store.assignments(), cannot, o),
      summary: { ...summary, neighbours: { ...summary.neighbours } },
    }),
  );
  return summary;
}

/** Who joined and left each person now (new persons by their new ids), and how many moved. */
function changesOf(
  chosen: StoredFace[],
  personOf: Int32Array,
  created: number[],
  prev: Map<number, number | null>,
  rowOf: Map<number, number>,
): { people: number; added: Record<string, number>; left: Record<string, number>; moved: number } {
  const real = (p: number) => (p < 0 ? created[-p - 1] : p);
  const added: Record<string, number> = {}, left: Record<string, number> = {};
  let moved = 0;
  const people = new Set<number>();
  chosen.forEach((f, r) => {
    const now = personOf[r] === 0 ? null : real(personOf[r]);
    if (now !== null) people.add(now);
    const was = prev.get(f.id) ?? null;
    if (now === was) return;
    moved++;
    if (now !== null) added[now] = (added[now] ?? 0) + 1;
    if (was !== null) left[was] = (left[was] ?? 0) + 1;
  });
  for (const [faceId, was] of prev) {
    if (was !== null && !rowOf.has(faceId)) {
      left[was] = (left[was] ?? 0) + 1;
      moved++;
    }
  }
  return { people: people.size, added, left, moved };
}

/**
 * The person of each row: a stored id (> 0), a new person (< 0: −1 the first, new persons
 * numbered by decreasing size), or 0 (alone).
 */
function matchModules(
  module: Int32Array,
  count: number,
  faces: StoredFace[],
  pinnedTo: Map<number, number>,
  prev: Map<number, number | null>,
  vectors: Float32Array,
  o: ReclusterOptions,
  persons: { id: number; centroid: Float32Array | null }[],
): Int32Array {
  const rows: number[][] = Array.from({ length: count }, () => []);
  module.forEach((m, r) => m >= 0 && rows[m].push(r));
  const owner = new Int32Array(count); // 0: not matched yet
  const taken = new Set<number>();
  for (let m = 0; m < count; m++) {
    for (const r of rows[m]) {
      const p = pinnedTo.get(faces[r].id);
      if (p !== undefined) {
        owner[m] = p;
        taken.add(p);
        break;
      }
    }
  }
  // by faces shared with a person's previous faces
  const pairs: [number, number, number][] = []; // overlap, module, person
  for (let m = 0; m < count; m++) {
    if (owner[m] !== 0 || rows[m].length < 2) continue;
    const overlap = new Map<number, number>();
    for (const r of rows[m]) {
      const p = prev.get(faces[r].id);
      if (p) overlap.set(p, (overlap.get(p) ?? 0) + 1);
    }
    for (const [p, c] of overlap) pairs.push([c, m, p]);
  }
  pairs.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
  for (const [, m, p] of pairs) {
    if (owner[m] !== 0 || taken.has(p)) continue;
    owner[m] = p;
    taken.add(p);
  }
  // by the mean's cosine to a person left without faces
  const d = o.dims, minCos = (1 + o.minSim) / 2;
  const free = persons.filter((p) => p.centroid && !taken.has(p.id));
  const cands: [number, number, number][] = [];
  for (let m = 0; m < count && free.length; m++) {
    if (owner[m] !== 0 || rows[m].length < 2) continue;
    const mean = meanOf(rows[m], vectors, d);
    for (const p of free) {
      let s = 0;
      for (let j = 0; j < d; j++) s += mean[j] * p.centroid![j];
      if (s >= minCos) cands.push([s, m, p.id]);
    }
  }
  cands.sort((a, b) => b[0] - a[0]);
  for (const [, m, p] of cands) {
    if (owner[m] !== 0 || taken.has(p)) continue;
    owner[m] = p;
    taken.add(p);
  }
  // new persons, largest first
  const fresh = [];
  for (let m = 0; m < count; m++) if (owner[m] === 0 && rows[m].length >= 2) fresh.push(m);
  fresh.sort((a, b) => rows[b].length - rows[a].length || rows[a][0] - rows[b][0]);
  fresh.forEach((m, i) => (owner[m] = -(i + 1)));
  const out = new Int32Array(module.length);
  module.forEach((m, r) => (out[r] = m >= 0 ? owner[m] : 0));
  return out;
}

function meanOf(rows: number[], vectors: Float32Array, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += vectors[r * d + j];
  let s = 0;
  for (let j = 0; j < d; j++) s += mean[j] * mean[j];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let j = 0; j < d; j++) mean[j] *= inv;
  return mean;
}

/**
 * The faces (rows) whose own direction lies near the unrecognisable-identity centre (cosine at
 * least the model's per-face threshold), but for faces the user put in a person.
 */
function gateUnrecognisable(
  vectors: Float32Array,
  faces: StoredFace[],
  pinnedTo: Map<number, number>,
  o: ReclusterOptions,
): Set<number> {
  const gated = new Set<number>();
  const ui = o.unrecognisable;
  if (!ui || ui.faceThreshold === undefined) return gated;
  const d = o.dims;
  faces.forEach((f, r) => {
    if (pinnedTo.has(f.id)) return;
    let cos = 0;
    for (let j = 0; j < d; j++) cos += vectors[r * d + j] * ui.centre[j];
    if (cos >= ui.faceThreshold!) gated.add(r);
  });
  return gated;
}

/**
 * The modules whose mean direction lies near the unrecognisable-identity centre, dissolved
 * (in place): their rows become faces alone (module −1), marked hard to recognise. A module
 * of two or more faces is a person-to-be; one holding a face the user put somewhere is
 * never dissolved.
 */
function dissolveUnrecognisable(
  module: Int32Array,
  faces: StoredFace[],
  pinnedTo: Map<number, number>,
  vectors: Float32Array,
  o: ReclusterOptions,
): { persons: number; rows: Set<number> } {
  const rows = new Set<number>();
  const ui = o.unrecognisable;
  if (!ui) return { persons: 0, rows };
  const rowsOf = new Map<number, number[]>();
  module.forEach((m, r) => {
    if (m < 0) return;
    const list = rowsOf.get(m);
    if (list) list.push(r);
    else rowsOf.set(m, [r]);
  });
  let persons = 0;
  for (const [, list] of rowsOf) {
    if (list.length < 2 || list.some((r) => pinnedTo.has(faces[r].id))) continue;
    const mean = meanOf(list, vectors, o.dims);
    let cos = 0;
    for (let j = 0; j < o.dims; j++) cos += mean[j] * ui.centre[j];
    if (cos < ui.threshold) continue;
    persons++;
    for (const r of list) {
      module[r] = -1;
      rows.add(r);
    }
  }
  return { persons, rows };
}

function centroidsAndSimilarities(
  personOf: Int32Array,
  faces: StoredFace[],
  pinnedTo: Map<number, number>,
  vectors: Float32Array,
  d: number,
  hard: { rows: Set<number> },
): Clustering {
  const rowsOf = new Map<number, number[]>();
  personOf.forEach((p, r) => {
    if (p === 0) return;
    const list = rowsOf.get(p);
    if (list) list.push(r);
    else rowsOf.set(p, [r]);
  });
  const sim = new Float64Array(personOf.length);
  const centroids: Clustering["centroids"] = [];
  for (const [p, rows] of rowsOf) {
    const mean = meanOf(rows, vectors, d);
    centroids.push({ personId: p, centroid: Float32Array.from(mean) });
    for (const r of rows) {
      let s = 0;
      for (let j = 0; j < d; j++) s += mean[j] * vectors[r * d + j];
      sim[r] = s;
    }
  }
  const c: Clustering = {
    assign: [],
    pinnedSimilarity: [],
    create: [...rowsOf.keys()].reduce((m, p) => Math.max(m, -p), 0),
    centroids,
  };
  faces.forEach((f, r) => {
    if (pinnedTo.has(f.id)) c.pinnedSimilarity.push({ faceId: f.id, similarity: sim[r] });
    else {
      c.assign.push({
        faceId: f.id,
        personId: personOf[r] || null,
        similarity: sim[r],
        hard: hard.rows.has(r),
      });
    }
  });
  return c;
}
