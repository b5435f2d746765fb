/**
 * `report.html`: a self-contained page (no scripts from elsewhere, no network) over the
 * output folder's face crops: every person with a representative face, count and samples;
 * a section per person with all their faces; the faces that joined nobody; the files that
 * failed and why; settings and timings; and, for an evaluation, the metrics and which true
 * identities each person mixes (worst merges and splits first).
 *
 * @module
 */

import type { ClusteringMetrics } from "../metrics/metrics.ts";

/** A face as the manifest (`clusters.json`) lists it. */
export interface ReportFace {
  /** Face id (row in the embeddings). */
  id: number;
  /** Photo, relative to the input folder. */
  file: string;
  /** Output folder of its cluster. */
  folder: string;
  /** Cluster id. */
  cluster: number;
  /** Cosine similarity to its cluster's mean direction. */
  similarity: number;
  /** Detector score. */
  score: number;
  /** True identity, for a labeled folder. */
  label?: string;
}

/** What the report is made from: the manifest's fields. */
export interface ReportData {
  /** Input folder. */
  input: string;
  /** Model description. */
  model: { name: string; dims: number; flip?: boolean; about?: string };
  /** Neighbours per face. */
  k: number;
  /** Link threshold. */
  min_sim: number;
  /** Photos scanned. */
  photos: number;
  /** Every face. */
  faces: ReportFace[];
  /** Every cluster. */
  clusters: { id: number; size: number; folder: string }[];
  /** Photos that could not be read or decoded. */
  failed: { file: string; error: string }[];
  /** Photos without a face. */
  without_faces: string[];
  /** Entries the scan skipped. */
  skipped: { path: string; problem: string }[];
  /** Seconds per stage. */
  seconds?: Record<string, number>;
  /** Metrics of an evaluation. */
  metrics?: ClusteringMetrics;
  /** Of an evaluation: labeled photos, and the share with a clustered face. */
  evaluation?: { photos: number; faces: number; coverage: number };
  /** Every photo accounted for: with a face, without one, failed. */
  accounting?: { with_faces: number; without_faces: number; failed: number };
  /** The detector, and the pictures taken whole (crop mode). */
  detection?: { detector: string; refine: boolean; crop: boolean; whole: number };
  /** Of a library: what the last run changed. */
  changes?: {
    /** The library's first run (nothing to compare with). */
    first_run?: boolean;
    new_photos: number;
    removed_photos: number;
    new_people: number[];
    faces_added: Record<string, number>;
  };
  /** Of a library: its people (stable id, name, folder). */
  people?: { id: number; name: string | null; folder: string; faces: number; pinned: number }[];
  /** Of a library: the user's decisions, oldest first. */
  decisions?: { id: number; at: string; kind: string; summary: string; undone: boolean }[];
}

/** The fields of a face in `clusters.json` that every writer of it gives, but its norm. */
export interface ManifestFaceFields<S extends string> {
  /** Face id. */
  id: number;
  /** Photo, relative to the input folder. */
  file: string;
  /** Box in photo pixels. */
  box: { x: number; y: number; width: number; height: number };
  /** Five points. */
  points: [number, number][];
  /** Detector score. */
  score: number;
  /** How it was found. */
  source: S;
  /** Quality in [0, 1]. */
  quality: number;
}

/**
 * The fields of a face in `clusters.json` that every writer of it gives (then its cluster,
 * folder and similarity).
 *
 * @param f The face.
 * @returns id, file, box, points, score, source, quality, norm (null when unknown).
 *
 * @example
 * ```ts
 * import { manifestFace } from "./report_html.ts";
 * const box = { x: 0, y: 0, width: 9, height: 9 };
 * const f = { id: 1, file: "a.jpg", box, points: [], score: 0.9, source: "detected", quality: 1, norm: NaN };
 * console.log(manifestFace(f).norm); // null
 * ```
 */
export function manifestFace<S extends string>(
  f: ManifestFaceFields<S> & { norm: number },
): ManifestFaceFields<S> & { norm: number | null } {
  const { id, file, box, points, score, source, quality, norm } = f;
  return {
    id,
    file,
    box,
    points,
    score,
    source,
    quality,
    norm: Number.isFinite(norm) ? norm : null,
  };
}

/** The folder of faces below the quality gate (never in a person). */
export const NOT_FACES = "not_faces";

/** The folder of the faces kept out of people as hard to recognise. */
export const HARD_TO_RECOGNISE = "hard_to_recognise";

/** Escapes text for HTML content and attribute values. */
function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The path of a face's crop relative to the output folder.
 *
 * @param face The face.
 * @returns E.g. `person_001/faces/face_000012.jpg`.
 *
 * @example
 * ```ts
 * import { cropPath } from "./report_html.ts";
 * console.log(cropPath({ id: 12, folder: "person_001" })); // "person_001/faces/face_000012.jpg"
 * ```
 */
export function cropPath(face: { id: number; folder: string }): string {
  return `${face.folder}/faces/face_${String(face.id).padStart(6, "0")}.jpg`;
}

/** A person of the report: a cluster of two or more faces, most typical face first. */
export interface ReportPerson {
  /** Cluster id. */
  id: number;
  /** Output folder. */
  folder: string;
  /** Its faces ordered by similarity to the centre, most typical first. */
  faces: ReportFace[];
}

/**
 * The people (clusters of two or more faces, in id order) with their faces most typical
 * first, and the faces that joined nobody (also most typical first).
 *
 * @param data The manifest's fields.
 * @returns People and faces alone.
 *
 * @example
 * ```ts
 * import { groupFaces } from "./report_html.ts";
 * const face = (id: number, folder: string) =>
 *   ({ id, file: "a.jpg", folder, cluster: 0, similarity: 1 - id / 10, score: 1 });
 * const { people } = groupFaces({
 *   faces: [face(1, "person_001"), face(0, "person_001")],
 *   clusters: [{ id: 0, size: 2, folder: "person_001" }],
 * });
 * console.log(people[0].faces.map((f) => f.id)); // [0, 1]
 * ```
 */
export function groupFaces(
  data: Pick<ReportData, "faces" | "clusters">,
): { people: ReportPerson[]; alone: ReportFace[]; notFaces: ReportFace[]; hard: ReportFace[] } {
  const byFolder = new Map<string, ReportFace[]>();
  for (const f of data.faces) {
    const list = byFolder.get(f.folder) ?? [];
    list.push(f);
    byFolder.set(f.folder, list);
  }
  const typical = (faces: ReportFace[]) =>
    faces.sort((a, b) => b.similarity - a.similarity || a.id - b.id);
  const people = data.clusters.filter((c) => c.size >= 2).sort((a, b) => a.id - b.id)
    .map((c) => ({ id: c.id, folder: c.folder, faces: typical(byFolder.get(c.folder) ?? []) }));
  return {
    people,
    alone: typical(byFolder.get("unclustered") ?? []),
    notFaces: byFolder.get(NOT_FACES) ?? [],
    hard: byFolder.get(HARD_TO_RECOGNISE) ?? [],
  };
}

function img(face: ReportFace, size: number, lazy = true): string {
  const title = `${face.file} · similarity ${face.similarity.toFixed(3)} · score ${
    face.score.toFixed(2)
  }${face.label !== undefined ? ` · true: ${face.label}` : ""}`;
  return `<img src="${
    esc(encodeURI(cropPath(face)))
  }" width="${size}" height="${size}" alt="face ${face.id}" title="${esc(title)}"${
    lazy ? ' loading="lazy"' : ""
  }>`;
}

/** Per person: the identities it mixes; per identity: the people it is split over. */
interface Errors {
  merges: { folder: string; size: number; mixed: [string, number][]; wrong: number }[];
  splits: { label: string; size: number; over: [string, number][]; away: number }[];
}

function clusteringErrors(faces: ReportFace[]): Errors {
  const byFolder = new Map<string, Map<string, number>>();
  const byLabel = new Map<string, Map<string, number>>();
  for (const f of faces) {
    if (f.label === undefined) continue;
    const a = byFolder.get(f.folder) ?? new Map<string, number>();
    a.set(f.label, (a.get(f.label) ?? 0) + 1);
    byFolder.set(f.folder, a);
    const b = byLabel.get(f.label) ?? new Map<string, number>();
    // faces alone each count as their own cluster
    const key = f.folder === "unclustered" ? `unclustered (face ${f.id})` : f.folder;
    b.set(key, (b.get(key) ?? 0) + 1);
    byLabel.set(f.label, b);
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((x, y) => y[1] - x[1]);
  const merges = [...byFolder.entries()]
    .filter(([folder]) => folder !== "unclustered")
    .map(([folder, m]) => {
      const mixed = sorted(m), size = mixed.reduce((s, [, c]) => s + c, 0);
      return { folder, size, mixed, wrong: size - mixed[0][1] };
    })
    .filter((m) => m.mixed.length > 1)
    .sort((a, b) => b.wrong - a.wrong || a.folder.localeCompare(b.folder));
  const splits = [...byLabel.entries()]
    .map(([label, m]) => {
      const over = sorted(m), size = over.reduce((s, [, c]) => s + c, 0);
      return { label, size, over, away: size - over[0][1] };
    })
    .filter((s) => s.over.length > 1)
    .sort((a, b) => b.away - a.away || a.label.localeCompare(b.label));
  return { merges, splits };
}

/** The true identities of a person's labeled faces, e.g. `true: amy ×5`. */
function truthOf(faces: ReportFace[]): string {
  const count = new Map<string, number>();
  for (const f of faces) {
    if (f.label !== undefined) count.set(f.label, (count.get(f.label) ?? 0) + 1);
  }
  if (count.size === 0) return `<span class="muted">no labeled face</span>`;
  return `true: ${[...count].map(([l, n]) => `${esc(l)} ×${n}`).join(", ")}`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f4f6;color:#222}
header,section{padding:12px 20px}header{background:#222;color:#eee}
h1{margin:0 0 4px;font-size:20px}h2{font-size:17px;margin:18px 0 8px}
.grid{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border-radius:6px;padding:8px;width:244px;box-shadow:0 1px 2px #0002}
.card h3{margin:0 0 6px;font-size:15px}.card a{color:inherit}
.card .rep{display:block;margin-bottom:4px}.samples img{margin-right:2px}
.faces img{margin:1px}img{border-radius:3px;background:#ddd}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
.mix{color:#a30}.muted{color:#777}
`;

/** A library's report: what the last run changed, and the user's decisions. */
function librarySections(data: ReportData): string[] {
  const out: string[] = [];
  const c = data.changes;
  // only after a run that had a last run, and short: the ten people that gained most
  if (c && c.first_run === false) {
    const folderOf = new Map((data.people ?? []).map((p) => [String(p.id), p]));
    const added = Object.entries(c.faces_added).filter(([p]) => folderOf.has(p))
      .sort((a, b) => b[1] - a[1]);
    const shown = added.slice(0, 10);
    out.push(
      `<section id="changes"><h2>Since the last run</h2><p>${c.new_photos} new photos, ${c.removed_photos} gone; ${c.new_people.length} new people${
        added.length > shown.length
          ? `; ${added.length} people gained faces, the ten that gained most:`
          : ""
      }</p>`,
      added.length
        ? `<table class="changes"><tr><th>person</th><th>faces added</th></tr>${
          shown.map(([p, n]) => {
            const person = folderOf.get(p)!;
            return `<tr><td><a href="#${esc(person.folder)}">${
              esc(person.name ?? person.folder)
            }</a>${c.new_people.includes(Number(p)) ? " (new)" : ""}</td><td>${n}</td></tr>`;
          }).join("")
        }</table>`
        : `<p class="muted">no person gained a face</p>`,
      `</section>`,
    );
  }
  if (data.decisions?.length) {
    out.push(
      `<section id="decisions"><h2>Your decisions (${data.decisions.length})</h2><table class="decisions"><tr><th>#</th><th>when</th><th>what</th></tr>${
        data.decisions.map((d) =>
          `<tr${d.undone ? ' class="muted"' : ""}><td>${d.id}</td><td>${esc(d.at)}</td><td>${
            esc(`${d.kind}: ${d.summary}`)
          }${d.undone ? " (undone)" : ""}</td></tr>`
        ).join("")
      }</table></section>`,
    );
  }
  return out;
}

/** The evaluation: metrics, the people that mix identities, the identities split. */
function evaluationSection(
  data: ReportData,
  errors: ReturnType<typeof clusteringErrors>,
): string[] {
  const m = data.metrics!, f = (x: number) => x.toFixed(4);
  return [
    `<section id="evaluation"><h2>Evaluation</h2><table><tr><th></th><th>precision</th><th>recall</th><th>F</th></tr>`,
    `<tr><td>pairwise</td><td>${f(m.pairwise.precision)}</td><td>${f(m.pairwise.recall)}</td><td>${
      f(m.pairwise.f)
    }</td></tr>`,
    `<tr><td>BCubed</td><td>${f(m.bcubed.precision)}</td><td>${f(m.bcubed.recall)}</td><td>${
      f(m.bcubed.f)
    }</td></tr>`,
    `<tr><td>NMI</td><td colspan="3">${f(m.nmi)}</td></tr>`,
    data.evaluation
      ? `<tr><td>coverage</td><td colspan="3">${
        f(data.evaluation.coverage)
      } (${data.evaluation.faces} of ${data.evaluation.photos} labeled photos with a clustered face; the others count as singletons)</td></tr>`
      : "",
    `</table>`,
    `<h2>People that mix identities (worst first)</h2>`,
    errors.merges.length
      ? `<table class="merges"><tr><th>person</th><th>faces</th><th>wrong</th><th>true identities</th></tr>${
        errors.merges.map((e) =>
          `<tr><td><a href="#${esc(e.folder)}">${
            esc(e.folder)
          }</a></td><td>${e.size}</td><td>${e.wrong}</td><td>${
            e.mixed.map(([l, c]) => `${esc(l)} ×${c}`).join(", ")
          }</td></tr>`
        ).join("")
      }</table>`
      : `<p class="muted">none: every person is one identity</p>`,
    `<h2>Identities split over several people (worst first)</h2>`,
    errors.splits.length
      ? `<table class="splits"><tr><th>identity</th><th>faces</th><th>away from its main person</th><th>found in</th></tr>${
        errors.splits.map((e) =>
          `<tr><td>${esc(e.label)}</td><td>${e.size}</td><td>${e.away}</td><td>${
            e.over.map(([p, c]) => `${esc(p)} ×${c}`).join(", ")
          }</td></tr>`
        ).join("")
      }</table>`
      : `<p class="muted">none: every identity is in one person</p>`,
    `</section>`,
  ];
}

/** The people as cards (a representative face and four more), largest first. */
function peopleGrid(
  data: ReportData,
  people: ReturnType<typeof groupFaces>["people"],
  mixOf: Map<string, { mixed: [string, number][] }>,
): string[] {
  const lines: string[] = [];
  lines.push(`<section id="people"><h2>People</h2><div class="grid">`);
  for (const c of people) {
    const list = c.faces;
    const mix = mixOf.get(c.folder);
    lines.push(
      `<div class="card person" data-folder="${esc(c.folder)}" data-count="${list.length}">`,
      `<h3><a href="#${esc(c.folder)}">${
        esc(c.folder)
      }</a> · <span class="count">${list.length}</span> faces</h3>`,
      list.length ? `<span class="rep">${img(list[0], 112, false)}</span>` : "",
      `<div class="samples">${list.slice(1, 5).map((f) => img(f, 56, false)).join("")}</div>`,
      mix
        ? `<div class="mix">mixes ${mix.mixed.map(([l, n]) => `${esc(l)} ×${n}`).join(", ")}</div>`
        : data.metrics
        ? `<div class="truth">${truthOf(list)}</div>`
        : "",
      `</div>`,
    );
  }
  lines.push(`</div></section>`);
  return lines;
}

/**
 * Renders the report page.
 *
 * @param data The manifest's fields (faces, clusters, failures, settings, timings, metrics).
 * @returns The HTML text; images are the crops beside it in the output folder.
 *
 * @example
 * ```ts
 * import { renderReport } from "./report_html.ts";
 * const html = renderReport({
 *   input: "photos", model: { name: "dlib", dims: 128 }, k: 80, min_sim: 0.94, photos: 1,
 *   faces: [], clusters: [], failed: [], without_faces: ["a.jpg"], skipped: [],
 * });
 * console.log(html.startsWith("<!DOCTYPE html>")); // true
 * ```
 */
export function renderReport(data: ReportData): string {
  const { people, alone, notFaces, hard } = groupFaces(data);
  const acc = data.accounting;
  const errors = data.metrics ? clusteringErrors(data.faces) : null;
  const mixOf = new Map(errors?.merges.map((m) => [m.folder, m]) ?? []);
  const out: string[] = [];
  out.push(
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>facecluster: ${esc(data.input)}</title><style>${STYLE}</style></head><body>`,
    `<header><h1>${people.length} ${people.length === 1 ? "person" : "people"} in ${
      esc(data.input)
    }</h1>`,
    `<div>${data.photos} photos: ${
      acc ? `${acc.with_faces} with a face, ` : ""
    }${data.without_faces.length} without a face, ${data.failed.length} failed · ${data.faces.length} faces, ${alone.length} alone, ${
      hard.length ? `${hard.length} hard to recognise, ` : ""
    }${notFaces.length} not faces${
      data.detection?.whole ? ` · ${data.detection.whole} pictures taken whole as a face` : ""
    }</div></header>`,
  );
  // the people first: the first screen shows faces
  // appended one by one: a spread of a large library's lines would overflow the stack
  for (const l of peopleGrid(data, people, mixOf)) out.push(l);
  for (const l of librarySections(data)) out.push(l);
  if (data.metrics && errors) { for (const l of evaluationSection(data, errors)) out.push(l); }

  for (const c of people) {
    const list = c.faces;
    const photos = new Set(list.map((f) => f.file)).size;
    out.push(
      `<section class="person-faces" id="${esc(c.folder)}"><h2>${
        esc(c.folder)
      }: ${list.length} faces in ${photos} photos</h2>`,
      `<div class="faces">${list.map((f) => img(f, 72)).join("")}</div></section>`,
    );
  }
  out.push(
    `<section id="unclustered"><h2>Faces that joined nobody: ${alone.length}</h2>`,
    `<div class="faces">${alone.map((f) => img(f, 72)).join("")}</div></section>`,
    `<section id="hard"><h2>Hard to recognise (their person lay near the unrecognisable-face centre; kept out of people): ${hard.length}</h2>`,
    `<div class="faces">${hard.map((f) => img(f, 72)).join("")}</div></section>`,
    `<section id="not-faces"><h2>Not faces (below the quality gate, in no person): ${notFaces.length}</h2>`,
    `<div class="faces">${notFaces.map((f) => img(f, 72)).join("")}</div></section>`,
    `<section id="failed"><h2>Files that failed: ${data.failed.length}</h2>`,
    data.failed.length
      ? `<table><tr><th>file</th><th>problem</th></tr>${
        data.failed.map((f) => `<tr><td>${esc(f.file)}</td><td>${esc(f.error)}</td></tr>`).join("")
      }</table>`
      : `<p class="muted">none</p>`,
    data.skipped.length
      ? `<h2>Skipped by the scan: ${data.skipped.length}</h2><table>${
        data.skipped.map((s) => `<tr><td>${esc(s.path)}</td><td>${esc(s.problem)}</td></tr>`)
          .join("")
      }</table>`
      : "",
    data.without_faces.length
      ? `<h2>Photos without a face: ${data.without_faces.length}</h2><p>${
        data.without_faces.map(esc).join(", ")
      }</p>`
      : "",
    `</section><section id="settings"><h2>Settings and timings</h2><table>`,
    `<tr><td>model</td><td>${esc(data.model.name)} (${data.model.dims}-d${
      data.model.flip ? ", mirrored average" : ""
    })${data.model.about ? ` · ${esc(data.model.about)}` : ""}</td></tr>`,
    `<tr><td>k, min_sim</td><td>${data.k}, ${data.min_sim}</td></tr>`,
    ...Object.entries(data.seconds ?? {}).map(([s, v]) =>
      `<tr><td>${esc(s)} (s)</td><td>${Number(v).toFixed(2)}</td></tr>`
    ),
    `</table></section></body></html>\n`,
  );
  return out.join("\n");
}
