/**
 * The library's output folder, kept in step with the people: one folder per person (named
 * by the person's name, else `person_<id>`), `unclustered/`, `not_faces/`, the manifest
 * `clusters.json`, `embeddings.npy` and the report. It is updated in place: files the
 * library wrote and that are no longer wanted are moved to where they are wanted now or
 * removed; a file the user put there or changed is never touched; the input is only read.
 *
 * @module
 */

import { encodeNpy } from "../io/npy.ts";
import { chipAsJpeg } from "../image/encode_chip.ts";
import { temporaryPath, writeFileAtomic } from "../io/atomic.ts";
import { jsonDigest, writeJsonAtomic } from "../io/json_stream.ts";
import { InputError } from "../errors.ts";
import {
  HARD_TO_RECOGNISE,
  manifestFace,
  NOT_FACES,
  type ReportData,
} from "../report/report_html.ts";
import { writeReport } from "../report/write_report.ts";
import { accountingOf, type FaceView, type LibraryReader, type PersonView } from "./views.ts";
import { DEFAULT_MIN_QUALITY, type LibrarySettings, type PlaceMode } from "./settings.ts";
import type { OutputFile, StoredPhoto } from "./store.ts";

export type { PlaceMode } from "./settings.ts";

/** Options of {@link exportLibrary}. */
export interface ExportOptions {
  /** Photos as copies (default), hard links or symbolic links. */
  link?: PlaceMode;
  /** More manifest fields (timings, what the run changed). */
  extra?: Record<string, unknown>;
  /** Progress of placing files (`detail`: what was done to them). */
  onProgress?: (stage: string, done: number, total: number, detail?: string) => void;
}

/** What {@link exportLibrary} did. */
export interface ExportSummary {
  /** The output folder. */
  out: string;
  /** `report.html`. */
  report: string;
  /** Person folders. */
  people: number;
  /** Faces alone. */
  unclustered: number;
  /** Faces that are not faces (gated or marked). */
  notFaces: number;
  /** Faces kept out of people as hard to recognise. */
  hard: number;
  /** Files written now. */
  written: number;
  /** Files moved (a person renamed, a face moved). */
  moved: number;
  /** Files removed (no longer wanted, unchanged since written). */
  removed: number;
  /** Files left alone because the user changed them or put them there. */
  userFiles: string[];
  /** Every photo of the library accounted for: with a face, without one, failed. */
  accounting: { withFaces: number; withoutFaces: number; failed: number };
  /** The photos that failed, and why. */
  failed: { file: string; error: string }[];
  /** Faces in all, and of them pictures taken whole as a face (crop mode). */
  faces: { all: number; whole: number };
}

/** A folder name from a person's name: no separators, no leading dots. */
function safeName(name: string): string {
  const printable = [...name].map((ch) => (ch.charCodeAt(0) < 32 ? "_" : ch)).join("");
  return printable.replace(/[/\\:*?"<>|]/g, "_").replace(/^[.\s]+|[.\s]+$/g, "") || "_";
}

/** The folder of each face: person folders by name or id, `unclustered`, `not_faces`. */
function folders(
  faces: FaceView[],
  people: { id: number; name: string | null }[],
  minQuality: number,
): Map<number, string> {
  const byPerson = new Map<number, string>();
  const used = new Set(["unclustered", NOT_FACES, HARD_TO_RECOGNISE].map((s) => s.toLowerCase()));
  for (const p of people) {
    let f = p.name ? safeName(p.name) : `person_${String(p.id).padStart(3, "0")}`;
    if (used.has(f.toLowerCase()) || /^person_\d+$/.test(f) && p.name) f = `${f} (${p.id})`;
    used.add(f.toLowerCase());
    byPerson.set(p.id, f);
  }
  return new Map(faces.map((f) => [
    f.id,
    f.personId !== null
      ? byPerson.get(f.personId)!
      : f.notFace || f.quality < minQuality
      ? NOT_FACES
      : f.hard
      ? HARD_TO_RECOGNISE
      : "unclustered",
  ]));
}

/** `lstat`, or null for nothing there (sync: thousands of these per run). */
function lstat(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch {
    return null;
  }
}

const record = (out: string, path: string): OutputFile => {
  const info = Deno.lstatSync(`${out}/${path}`);
  return { path, size: info.size, mtime: info.mtime?.getTime() ?? 0 };
};

/** A file the output should hold: a photo (its input path) or a face crop (its id). */
interface Want {
  photo?: string;
  face?: number;
}

/**
 * Writes or updates the output folder of a library.
 *
 * @param lib The library.
 * @param input The input folder (photos are read from it).
 * @param out The output folder.
 * @param options Link mode, manifest fields, progress.
 * @returns What changed in the folder.
 *
 * @example
 * ```ts ignore
 * const s = await exportLibrary(lib, "photos", "photos_people");
 * console.log(s.people, s.written, s.moved, s.removed);
 * ```
 */
export async function exportLibrary(
  lib: LibraryReader,
  input: string,
  out: string,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const store = lib.store;
  // a run killed while it wrote here left temporary files, anywhere in the folder: the mark
  // says so (set now, "closed" when this export ends; none yet: a library from before the
  // mark), and they are removed before anything else
  const mark = `export_open:${out}`;
  if ((await store.setting(mark)) !== "closed") removeTemporaryFiles(out);
  await store.setSetting(mark, "open");
  const faces = await lib.faces();
  const people = await lib.people(faces);
  const settings = await lib.settings();
  const photos = await lib.photos();
  const folderOf = folders(faces, people, settings?.minQuality ?? DEFAULT_MIN_QUALITY);
  const wants = wantedFiles(faces, photos, folderOf);
  const summary = newSummary(out, people.length, folderOf, photos, faces);
  const owned = new Map((await store.outputs(out)).map((o) => [o.path, o]));
  const ctx: Placing = {
    lib,
    input,
    out,
    options,
    owned,
    summary,
    forget: [],
    written: [],
    emptied: new Set(),
    ours: (path) => {
      const o = owned.get(path), info = lstat(`${out}/${path}`);
      return !!o && !!info && info.size === o.size && (info.mtime?.getTime() ?? 0) === o.mtime;
    },
  };
  await placeFiles(ctx, wants);
  await store.putOutputs(out, ctx.written, ctx.forget);
  options.onProgress?.(
    "files",
    wants.size,
    wants.size,
    `${summary.written} written, ${summary.moved} moved, ${summary.removed} removed`,
  );
  const reportFiles = await writeManifestAndReport(
    lib,
    settings,
    out,
    { faces, people, photos, summary, folderOf },
    options,
  );
  // report files of ours no longer made (a person's contact sheet in a folder now gone)
  const stale: string[] = [];
  for (const [path] of owned) {
    if (!isReport(path) || reportFiles.has(path) || !ctx.ours(path)) continue;
    await Deno.remove(`${out}/${path}`).catch(() => {});
    stale.push(path);
    ctx.emptied.add(path.slice(0, path.indexOf("/")));
  }
  await store.putOutputs(out, [...reportFiles].map((p) => record(out, p)), stale);
  // folders left empty by removals (never one holding a file of the user's)
  for (const dir of ctx.emptied) {
    await Deno.remove(`${out}/${dir}/faces`).catch(() => {});
    await Deno.remove(`${out}/${dir}`).catch(() => {});
  }
  await store.setSetting(mark, "closed");
  return summary;
}

/** Files of the report and manifest: at the top, or a person's contact sheet. */
const isReport = (p: string): boolean => !p.includes("/") || p.endsWith("/contact_sheet.png");

/** What the folder should hold: each face's photo (and its copies) and crop, by path. */
function wantedFiles(
  faces: FaceView[],
  photos: StoredPhoto[],
  folderOf: Map<number, string>,
): Map<string, Want> {
  const wants = new Map<string, Want>();
  const copies = new Map<number, string[]>(); // photo id → the paths of its copies
  for (const p of photos) {
    if (p.duplicateOf !== null) {
      copies.set(p.duplicateOf, [...(copies.get(p.duplicateOf) ?? []), p.path]);
    }
  }
  for (const f of faces) {
    const folder = folderOf.get(f.id)!;
    for (const file of [f.file, ...(copies.get(f.photoId) ?? [])]) {
      wants.set(`${folder}/${file.replaceAll("/", "__")}`, { photo: file });
    }
    wants.set(`${folder}/faces/face_${String(f.id).padStart(6, "0")}.jpg`, { face: f.id });
  }
  return wants;
}

/** The summary before any file is placed: the counts and the accounting. */
function newSummary(
  out: string,
  people: number,
  folderOf: Map<number, string>,
  photos: StoredPhoto[],
  faces: FaceView[],
): ExportSummary {
  const status = (k: StoredPhoto["status"]) => photos.filter((p) => p.status === k);
  return {
    out,
    report: `${out}/report.html`,
    people,
    unclustered: [...folderOf.values()].filter((v) => v === "unclustered").length,
    notFaces: [...folderOf.values()].filter((v) => v === NOT_FACES).length,
    hard: [...folderOf.values()].filter((v) => v === HARD_TO_RECOGNISE).length,
    written: 0,
    moved: 0,
    removed: 0,
    userFiles: [],
    accounting: accountingOf(photos),
    failed: status("failed").map((p) => ({ file: p.path, error: p.error ?? "" })),
    faces: { all: faces.length, whole: faces.filter((f) => f.source === "whole").length },
  };
}

/** The state of one export while it places files. */
interface Placing {
  lib: LibraryReader;
  input: string;
  out: string;
  options: ExportOptions;
  /** Files the library wrote here before, by path. */
  owned: Map<string, OutputFile>;
  summary: ExportSummary;
  /** Paths no longer ours (removed, moved away, or the user's now). */
  forget: string[];
  /** Files written or adopted now. */
  written: OutputFile[];
  /** Person folders that may be left empty. */
  emptied: Set<string>;
  /** A file of ours, unchanged since written. */
  ours: (path: string) => boolean;
}

/**
 * Files of ours no longer wanted where they are, by what they hold (`p:PATH`, `f:ID`), to
 * move or remove; files changed since written are the user's from now on.
 */
function spareFiles(ctx: Placing, wants: Map<string, Want>): Map<string, string[]> {
  const spare = new Map<string, string[]>();
  for (const [path] of ctx.owned) {
    if (wants.has(path) || isReport(path)) continue;
    if (!ctx.ours(path)) {
      ctx.forget.push(path);
      if (lstat(`${ctx.out}/${path}`)) ctx.summary.userFiles.push(path);
      continue;
    }
    const m = /^(.*)\/faces\/face_0*(\d+)\.jpg$/.exec(path);
    const key = m ? `f:${m[2]}` : `p:${path.slice(path.indexOf("/") + 1).replaceAll("__", "/")}`;
    spare.set(key, [...(spare.get(key) ?? []), path]);
  }
  return spare;
}

/** Every wanted file placed: kept, adopted, moved from where it was, or written; spares go. */
async function placeFiles(ctx: Placing, wants: Map<string, Want>): Promise<void> {
  const { out, summary } = ctx;
  const spare = spareFiles(ctx, wants);
  const made = new Set<string>();
  let done = 0;
  // the chips of the next files to write are read ahead: a database store answers a few reads
  // side by side, where one at a time costs a round trip each
  const entries = [...wants];
  const ahead = new Map<number, Promise<Uint8Array | null>>();
  let next = 0;
  const readAhead = (upTo: number) => {
    for (; next < Math.min(upTo, entries.length); next++) {
      const [p, w] = entries[next];
      if (w.face === undefined || (ctx.owned.has(p) && lstat(`${out}/${p}`))) continue;
      const chip = ctx.lib.store.chip(w.face);
      chip.catch(() => {}); // awaited below
      ahead.set(w.face, chip);
    }
  };
  for (const [i, [path, want]] of entries.entries()) {
    readAhead(i + 32);
    ctx.options.onProgress?.("files", done++, wants.size);
    const info = lstat(`${out}/${path}`);
    if (info && ctx.owned.has(path)) {
      if (ctx.ours(path)) continue;
      summary.userFiles.push(path); // changed since we wrote it: the user's now
      ctx.forget.push(path);
      continue;
    }
    const dir = `${out}/${path.slice(0, path.lastIndexOf("/"))}`;
    if (!made.has(dir)) {
      Deno.mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    const stored = want.face === undefined
      ? null
      : await (ahead.get(want.face) ?? ctx.lib.store.chip(want.face));
    if (want.face !== undefined) ahead.delete(want.face);
    // a library made before chips were JPEG holds PNG ones: written as JPEG like the others
    const chip = stored && await chipAsJpeg(stored, `face ${want.face}`);
    if (info) {
      // not recorded: written by a run stopped before it recorded it, if it is the same file
      const size = chip ? chip.length : (await Deno.stat(`${ctx.input}/${want.photo}`)).size;
      if (info.size === size || (ctx.options.link === "symbolic" && info.isSymlink)) {
        ctx.written.push(record(out, path));
      } else summary.userFiles.push(path);
      continue;
    }
    const key = want.photo !== undefined ? `p:${want.photo}` : `f:${want.face}`;
    const from = spare.get(key)?.pop();
    if (from) {
      Deno.renameSync(`${out}/${from}`, `${out}/${path}`);
      ctx.forget.push(from);
      ctx.emptied.add(from.slice(0, from.indexOf("/")));
      summary.moved++;
    } else if (!writeWanted(ctx, path, want, chip)) continue;
    ctx.written.push(record(out, path));
  }
  for (const paths of spare.values()) {
    for (const p of paths) {
      await Deno.remove(`${out}/${p}`).catch(() => {});
      ctx.forget.push(p);
      summary.removed++;
      ctx.emptied.add(p.slice(0, p.indexOf("/")));
    }
  }
}

/** Writes a wanted file anew: a crop from its chip, or a photo by the link mode. */
function writeWanted(ctx: Placing, path: string, want: Want, chip: Uint8Array | null): boolean {
  if (want.face !== undefined) {
    if (!chip) return false;
    placeSync(`${ctx.out}/${path}`, (tmp) => Deno.writeFileSync(tmp, chip));
  } else {
    const src = `${ctx.input}/${want.photo}`, link = ctx.options.link ?? "copy";
    placeSync(`${ctx.out}/${path}`, (tmp) => {
      if (link === "hard") Deno.linkSync(src, tmp);
      else if (link === "symbolic") Deno.symlinkSync(Deno.realPathSync(src), tmp);
      else Deno.copyFileSync(src, tmp);
    });
  }
  ctx.summary.written++;
  return true;
}

/** A temporary file made by {@link temporaryPath}: `.NAME.PID.tmp`. */
const TEMPORARY = /^\..+\.\d+\.tmp$/;

/**
 * Removes the temporary files a killed run left anywhere under `out` (the caller holds the
 * library's lock, so no live run of ours is writing them); symbolic links are not followed.
 */
function removeTemporaryFiles(out: string): void {
  const walk = (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return; // gone or unreadable: nothing of ours to remove there
    }
    for (const e of entries) {
      if (e.isDirectory) walk(`${dir}/${e.name}`);
      else if (e.isFile && TEMPORARY.test(e.name)) Deno.removeSync(`${dir}/${e.name}`);
    }
  };
  walk(out);
}

/**
 * Makes `dst` with `write(tmp)` under a temporary name, then renames it into place
 * (synchronous: thousands of small files a run, each op's round trip would dominate).
 */
function placeSync(dst: string, write: (tmp: string) => void): void {
  const tmp = temporaryPath(dst);
  try {
    write(tmp);
    Deno.renameSync(tmp, dst);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* not made */ }
    throw new InputError(dst, `cannot write: ${(e as Error).message}`);
  }
}

/** The manifest's faces (cluster numbers: people by size, then each face alone) and clusters. */
function rowsOf(people: PersonView[], faces: FaceView[], folderOf: Map<number, string>) {
  const rank = new Map(people.map((p, i) => [p.id, i]));
  let alone = people.length;
  const faceRows = faces.map((f) => ({
    ...manifestFace(f),
    cluster: f.personId !== null
      ? rank.get(f.personId)!
      : folderOf.get(f.id) === NOT_FACES
      ? -1
      : alone++,
    person: f.personId,
    pinned: f.pinned,
    hard: f.hard,
    not_face: f.notFace,
    folder: folderOf.get(f.id)!,
    similarity: f.similarity,
    ...(f.label !== null ? { label: f.label } : {}),
  }));
  const clusters: {
    id: number;
    person: number | null;
    name: string | null;
    size: number;
    pinned: number;
    folder: string;
  }[] = people.map((p, i) => ({
    id: i,
    person: p.id,
    name: p.name,
    size: p.faces,
    pinned: p.pinned,
    folder: folderOf.get(p.representative)!,
  }));
  for (const f of faceRows) {
    if (f.person === null && f.cluster >= 0) {
      clusters.push({
        id: f.cluster,
        person: null,
        name: null,
        size: 1,
        pinned: 0,
        folder: f.folder,
      });
    }
  }
  return { faceRows, clusters };
}

/** What one export read and decided, handed to the manifest and report writers. */
interface ExportRun {
  faces: FaceView[];
  people: PersonView[];
  photos: StoredPhoto[];
  summary: ExportSummary;
  folderOf: Map<number, string>;
}

/** `clusters.json`'s contents: every face, the clusters, the people, the accounting. */
async function buildManifest(
  lib: LibraryReader,
  settings: LibrarySettings | null,
  run: ExportRun,
  options: ExportOptions,
): Promise<Record<string, unknown> & { faces: { folder: string }[] }> {
  const store = lib.store;
  const { faces, people, photos, summary, folderOf } = run;
  const evaluation = await lib.evaluation(faces);
  const dims = settings?.model.dims ?? 0;
  const { faceRows, clusters } = rowsOf(people, faces, folderOf);
  const { accounting, failed } = summary;
  const lastRun = JSON.parse(await store.setting("last_run") ?? "{}");
  const manifest = {
    version: 2,
    library: store.location,
    input: settings?.input ?? null,
    model: { name: settings?.model.name ?? null, dims },
    k: settings?.k ?? null,
    min_sim: settings?.minSim ?? null,
    photos: photos.length,
    faces: faceRows,
    clusters,
    people: people.map((p) => ({
      id: p.id,
      name: p.name,
      folder: folderOf.get(p.representative),
      faces: p.faces,
      pinned: p.pinned,
      photos: p.photos,
    })),
    accounting: {
      with_faces: accounting.withFaces,
      without_faces: accounting.withoutFaces,
      failed: accounting.failed,
    },
    quality_gate: {
      min_quality: settings?.minQuality ?? DEFAULT_MIN_QUALITY,
      not_faces: faceRows.filter((f) => f.folder === NOT_FACES).length,
    },
    ...(evaluation
      ? {
        evaluation: {
          photos: evaluation.photos,
          faces: evaluation.faces,
          coverage: evaluation.coverage,
        },
      }
      : {}),
    decisions: (await store.decisions()).map((d) => ({
      id: d.id,
      at: d.at,
      kind: d.kind,
      summary: d.summary,
      undone: d.undone,
    })),
    failed,
    without_faces: photos.filter((p) => p.status === "no_face").map((p) => p.path),
    duplicates: photos.filter((p) => p.duplicateOf !== null).map((p) => ({
      file: p.path,
      of: photos.find((o) => o.id === p.duplicateOf)?.path ?? null,
    })),
    skipped: lastRun.skipped ?? [],
    embeddings: { file: "embeddings.npy", rows: "faces[] order" },
    ...options.extra,
  };
  return manifest;
}

/**
 * `clusters.json`, `embeddings.npy` and the report (contact sheets, overview, page); the
 * report only when what it shows changed.
 *
 * @returns The files of the report and manifest, relative to `out`.
 */
async function writeManifestAndReport(
  lib: LibraryReader,
  settings: LibrarySettings | null,
  out: string,
  run: ExportRun,
  options: ExportOptions,
): Promise<Set<string>> {
  const store = lib.store, faces = run.faces, dims = settings?.model.dims ?? 0;
  const manifest = await buildManifest(lib, settings, run, options);
  const files = new Set(["clusters.json", "embeddings.npy", "report.html"]);
  const volatile = {
    ...manifest,
    ...Object.fromEntries(Object.keys(options.extra ?? {}).map((k) => [k, null])),
  };
  // a piece at a time: at a million faces the manifest is longer than a string may be
  const digest = jsonDigest(volatile);
  await writeJsonAtomic(`${out}/clusters.json`, manifest, 1);
  const key = `report_digest:${out}`;
  const previous = JSON.parse(await store.setting(key) ?? "null") as
    | { digest: string; sheets?: Record<string, string> }
    | null;
  if (previous?.digest !== digest || lstat(`${out}/embeddings.npy`) === null) {
    const vectors = await store.vectors(faces.map((f) => f.id), dims);
    await writeFileAtomic(
      `${out}/embeddings.npy`,
      encodeNpy({ rows: faces.length, cols: dims, data: vectors }),
    );
  }
  // the page always (it shows the run's changes); sheets and overview when their faces changed
  const r = await writeReport(
    out,
    manifest as unknown as ReportData,
    (d, t) => options.onProgress?.("report", d, t),
    previous?.sheets ?? {},
  );
  const reportFiles = [...r.contactSheets, ...(r.overview ? [r.overview] : [])];
  await store.setSetting(key, JSON.stringify({ digest, sheets: r.sheetDigests }));
  for (const f of reportFiles) files.add(f);
  return files;
}

/**
 * Removes every file the library wrote into `out` that is unchanged since (the user's files
 * stay), and the folders that leaves empty; used before a library is set aside.
 *
 * @param lib The library.
 * @param out The output folder.
 * @returns How many files were removed.
 *
 * @example
 * ```ts ignore
 * console.log(await cleanOutputs(lib, "photos_people"));
 * ```
 */
export async function cleanOutputs(lib: LibraryReader, out: string): Promise<number> {
  const owned = await lib.store.outputs(out);
  const dirs = new Set<string>();
  let removed = 0;
  for (const o of owned) {
    const info = lstat(`${out}/${o.path}`);
    if (!info || info.size !== o.size || (info.mtime?.getTime() ?? 0) !== o.mtime) continue;
    await Deno.remove(`${out}/${o.path}`).catch(() => {});
    removed++;
    for (let p = o.path; p.includes("/");) dirs.add(p = p.slice(0, p.lastIndexOf("/")));
  }
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    await Deno.remove(`${out}/${d}`).catch(() => {});
  }
  await lib.store.putOutputs(out, [], owned.map((o) => o.path));
  return removed;
}
