/**
 * The faces stage of the library: scan the input, compare with the stored photos (size and
 * mtime, then sha256), forget photos that disappeared, follow photos that moved, and find,
 * embed and store the faces of new and changed photos, a few photos per transaction, so that
 * a run stopped at any moment keeps every photo it stored and redoes only the rest.
 *
 * @module
 */

import { fivePoints } from "../align/templates.ts";
import { encodeChip } from "../image/encode_chip.ts";
import { sha256Hex } from "../io/hash.ts";
import type { EmbeddingModel } from "../embed/models.ts";
import type { FaceEngine } from "../pipeline/face_engine.ts";
import { faceQuality } from "../pipeline/quality.ts";
import { scanFolder, type ScannedImage, type ScanProblem } from "../scan/scan.ts";
import type { LibraryStore, NewFace, StoredPhoto } from "./store.ts";
import type { PhotoFaces } from "../pipeline/photo_faces.ts";
import { streamFaces } from "../pipeline/face_stream.ts";

/** Photos stored per transaction. */
const COMMIT_PHOTOS = 16;

/** What {@link scanChanges} found. */
export interface ScanChanges {
  /** Every image in the input now. */
  images: ScannedImage[];
  /** Entries the scan skipped. */
  skipped: ScanProblem[];
  /** Images whose size or mtime differ from the stored photo, or that are not stored. */
  candidates: ScannedImage[];
  /** Stored photos no longer in the input. */
  gone: StoredPhoto[];
}

/**
 * Scans `input` and compares it with the library's photos.
 *
 * @param store The library.
 * @param input The input folder.
 * @param exclude Folders left out (the output folder).
 * @returns The images, and what changed.
 *
 * @example
 * ```ts ignore
 * const c = await scanChanges(store, "photos", ["photos_people"]);
 * console.log(c.candidates.length, c.gone.length);
 * ```
 */
export async function scanChanges(
  store: LibraryStore,
  input: string,
  exclude: string[],
): Promise<ScanChanges> {
  const stored = new Map((await store.photos()).map((p) => [p.path, p]));
  const scan = await scanFolder(input, {
    exclude,
    known: (relative, size, mtime) => {
      const s = stored.get(relative);
      return s !== undefined && s.size === size && s.mtime === mtime;
    },
  });
  const here = new Set(scan.images.map((i) => i.relative));
  const candidates = scan.images.filter((i) => {
    const s = stored.get(i.relative);
    // a photo that could not be read last time is tried again
    return !s || s.size !== i.size || s.mtime !== i.mtime || (s.status === "failed" && !s.sha256);
  });
  const gone = [...stored.values()].filter((p) => !here.has(p.path));
  return { images: scan.images, skipped: scan.skipped, candidates, gone };
}

/** Options of {@link ingest}. */
export interface IngestOptions {
  /** The model (for the quality's norm range). */
  model: EmbeddingModel;
  /** Images with more pixels are refused before decoding. */
  maxPixels?: number;
  /** Smallest detector score kept. */
  minConfidence?: number;
  /** Smallest face side. */
  minFaceSize?: number;
  /** Crop mode. */
  crop?: boolean;
  /** Progress: photos done of those to do. */
  onProgress?: (done: number, total: number) => void;
  /** Stops the run (what was stored stays). */
  signal?: AbortSignal;
  /**
   * The photos that need the face models are handed here instead (the workers of a shared
   * library find their faces); their bytes are read only where a stored photo may be the
   * same file (same path, or a gone photo's size).
   */
  defer?: (todo: ScannedImage[]) => Promise<void>;
  /** The engine stays open for the caller (a worker's next batch). */
  keepEngine?: boolean;
}

/** What {@link ingest} did. */
export interface IngestSummary {
  /** Photos whose faces were found now. */
  added: number;
  /** Of those, photos that replaced a changed file at the same path. */
  changed: number;
  /** Photos only touched (same bytes) or moved (same bytes, new path). */
  touched: number;
  /** New copies of a photo already there (stored with its faces, not found again). */
  duplicates: number;
  /** Stored photos forgotten (no longer in the input). */
  removed: number;
  /** Photos that failed now (stored as failed, with the reason). */
  failed: { file: string; error: string }[];
  /** Seconds in decode, detect, align, embed (thread seconds with workers). */
  seconds: { decode: number; detect: number; align: number; embed: number };
}

/**
 * Brings the library's photos and faces up to date with `changes`.
 *
 * @param store The library.
 * @param changes From {@link scanChanges}.
 * @param engine The face models (only used when a photo needs them).
 * @param options Limits, progress.
 * @returns What changed.
 *
 * @example
 * ```ts ignore
 * const summary = await ingest(store, changes, () => FaceEngine.start(...), { model });
 * ```
 */
export async function ingest(
  store: LibraryStore,
  changes: ScanChanges,
  engine: () => Promise<FaceEngine>,
  options: IngestOptions,
): Promise<IngestSummary> {
  const summary: IngestSummary = {
    added: 0,
    changed: 0,
    touched: 0,
    duplicates: 0,
    removed: 0,
    failed: [],
    seconds: { decode: 0, detect: 0, align: 0, embed: 0 },
  };
  const goneIds = new Set(changes.gone.map((p) => p.id));
  const goneSizes = new Set(changes.gone.map((p) => p.size));
  // a file that moved: the same bytes as a photo that is gone (an original before a copy)
  const goneBySha = new Map<string, StoredPhoto>();
  for (const p of changes.gone) {
    if (!goneBySha.has(p.sha256) || p.duplicateOf === null) goneBySha.set(p.sha256, p);
  }
  const unreadable: { image: ScannedImage; error: string }[] = [];
  const deferred: ScannedImage[] = [];
  const hashed: { image: ScannedImage; sha: string }[] = [];
  // with nothing gone, only the photos at these paths or with these bytes matter: a batch's
  // look-up, not a read of the whole library
  const all = changes.gone.length > 0 ? await store.photos() : null;
  const known = all ? new Set(all.map((p) => p.path)) : new Set(
    (await store.findPhotos(changes.candidates.map((i) => i.relative), [])).map((p) => p.path),
  );
  for (const image of changes.candidates) {
    options.signal?.throwIfAborted();
    if (options.defer && !known.has(image.relative) && !goneSizes.has(image.size)) {
      deferred.push(image); // new bytes for sure: the workers read them
      continue;
    }
    try {
      hashed.push({ image, sha: await sha256Hex(await Deno.readFile(image.path)) });
    } catch (e) {
      // stored as failed, so that every photo of the input is accounted for
      unreadable.push({ image, error: `cannot read: ${(e as Error).message}` });
    }
  }
  const mine = all ?? await store.findPhotos(
    hashed.map((h) => h.image.relative),
    hashed.map((h) => h.sha),
  );
  const stored = new Map(mine.map((p) => [p.path, p]));
  const present = new Map(
    mine.filter((p) => !goneIds.has(p.id) && p.duplicateOf === null).map((p) => [p.sha256, p]),
  );
  const todo: { image: ScannedImage; sha: string }[] = [];
  const copies: { image: ScannedImage; sha: string }[] = [];
  const seen = new Set<string>();
  for (const { image, sha } of hashed) {
    const same = stored.get(image.relative);
    const moved = goneBySha.get(sha);
    // same bytes at the same path (touched) or at a new one (moved): no work, ids kept
    if (same?.sha256 === sha) {
      await store.movePhoto(same.id, image.relative, image.size, image.mtime);
      summary.touched++;
    } else if (moved) {
      await store.movePhoto(moved.id, image.relative, image.size, image.mtime);
      goneBySha.delete(sha);
      summary.touched++;
    } else if ((present.get(sha) && present.get(sha)!.path !== image.relative) || seen.has(sha)) {
      copies.push({ image, sha }); // a copy of a photo in the library or in this run
    } else {
      seen.add(sha);
      if (same) summary.changed++;
      todo.push({ image, sha });
    }
  }
  summary.removed = all ? await forgetGone(store, all, changes.gone, goneIds, goneBySha) : 0;
  await storeUnreadable(store, unreadable, summary);
  if (options.defer) await options.defer([...deferred, ...todo.map((t) => t.image)]);
  else if (todo.length > 0) await findFaces(store, todo, engine, options, summary);
  await storeCopies(store, copies, summary);
  return summary;
}

/**
 * Forgets the photos that are gone; one that still has a copy moves to it (its faces and
 * their people stay).
 *
 * @returns How many were gone.
 */
async function forgetGone(
  store: LibraryStore,
  all: StoredPhoto[],
  goneNow: StoredPhoto[],
  goneIds: Set<number>,
  goneBySha: Map<string, StoredPhoto>,
): Promise<number> {
  const remaining = all.filter((p) => p.duplicateOf !== null && !goneIds.has(p.id));
  const promoted = new Set<number>();
  const gone = [...goneBySha.values()].concat(
    goneNow.filter((p) => goneBySha.get(p.sha256) !== p),
  );
  for (const p of gone) {
    const copy = p.duplicateOf === null
      ? remaining.find((d) => d.duplicateOf === p.id && !promoted.has(d.id))
      : undefined;
    if (copy) {
      promoted.add(copy.id);
      await store.removePhotos([copy.id]);
      await store.movePhoto(p.id, copy.path, copy.size, copy.mtime);
    } else await store.removePhotos([p.id]);
  }
  return gone.length;
}

/** Photos that could not be read, stored as failed so that every photo is accounted for. */
async function storeUnreadable(
  store: LibraryStore,
  unreadable: { image: ScannedImage; error: string }[],
  summary: IngestSummary,
): Promise<void> {
  if (unreadable.length === 0) return;
  await store.putPhotos(unreadable.map(({ image, error }) => ({
    photo: {
      path: image.relative,
      size: image.size,
      mtime: image.mtime,
      sha256: "",
      width: 0,
      height: 0,
      status: "failed" as const,
      error,
      duplicateOf: null,
    },
    faces: [],
  })));
  for (const { image, error } of unreadable) summary.failed.push({ file: image.relative, error });
}

/** Copies stored as duplicates of the photo with their bytes (found now or before). */
async function storeCopies(
  store: LibraryStore,
  copies: { image: ScannedImage; sha: string }[],
  summary: IngestSummary,
): Promise<void> {
  if (copies.length === 0) return;
  const bySha = new Map(
    (await store.findPhotos([], copies.map((c) => c.sha))).filter((p) => p.duplicateOf === null)
      .map((p) => [p.sha256, p]),
  );
  const rows = copies.flatMap(({ image, sha }) => {
    const of = bySha.get(sha);
    if (!of) return []; // its original could not be read: the next run tries again
    return [{
      photo: {
        path: image.relative,
        size: image.size,
        mtime: image.mtime,
        sha256: sha,
        width: of.width,
        height: of.height,
        status: of.status,
        error: of.error,
        duplicateOf: of.id,
      },
      faces: [],
    }];
  });
  await store.putPhotos(rows);
  summary.duplicates += rows.length;
}

/** New and changed photos through the face models (the one face loop), stored a few per transaction. */
async function findFaces(
  store: LibraryStore,
  todo: { image: ScannedImage; sha: string }[],
  engine: () => Promise<FaceEngine>,
  options: IngestOptions,
  summary: IngestSummary,
): Promise<void> {
  const eng = await engine();
  const ready: { photo: Omit<StoredPhoto, "id">; faces: NewFace[] }[] = [];
  const commit = async () => {
    await store.putPhotos(ready);
    ready.length = 0;
  };
  // chips PNG-encoded (off this thread, by sharp) while the next photos are in the models
  const pngs = new Map<number, Promise<Uint8Array[]>>();
  const stream = streamFaces(
    eng,
    todo.map(({ image }) => ({ name: image.relative, read: () => Deno.readFile(image.path) })),
    {
      maxPixels: options.maxPixels,
      minConfidence: options.minConfidence,
      minFaceSize: options.minFaceSize,
      crop: options.crop,
      chips: true,
      signal: options.signal,
      onFound: (i, r) => {
        const p = Promise.all(r.chips.map((c) => encodeChip(c)));
        p.catch(() => {}); // awaited below
        pngs.set(i, p);
      },
      onEmbedSeconds: (s) => (summary.seconds.embed += s),
    },
  );
  try {
    for await (const { index, faces: r, error } of stream) {
      options.onProgress?.(index, todo.length);
      const { image, sha } = todo[index];
      const photo: Omit<StoredPhoto, "id"> = {
        path: image.relative,
        size: image.size,
        mtime: image.mtime,
        sha256: sha,
        width: r?.width ?? 0,
        height: r?.height ?? 0,
        status: r === null ? "failed" : r.faces.length ? "faces" : "no_face",
        error,
        duplicateOf: null,
      };
      if (r === null) {
        summary.failed.push({ file: photo.path, error: error! });
        ready.push({ photo, faces: [] });
      } else {
        summary.added++;
        for (const k of ["decode", "detect", "align", "embed"] as const) {
          summary.seconds[k] += r.seconds[k];
        }
        const chips = await pngs.get(index)!;
        ready.push({ photo, faces: newFaces(r, chips, options.model) });
      }
      pngs.delete(index);
      if (ready.length >= COMMIT_PHOTOS) await commit();
    }
    await commit();
    options.onProgress?.(todo.length, todo.length);
  } finally {
    if (!options.keepEngine) await eng.close();
  }
}

/** A photo's faces as the store takes them: five points, vector, norm, quality, chip. */
function newFaces(r: PhotoFaces, chips: Uint8Array[], model: EmbeddingModel): NewFace[] {
  return r.faces.map((f, j) => {
    const face: NewFace = {
      box: f.box,
      landmarks: f.landmarks,
      points: fivePoints(f.landmarks),
      score: f.score,
      source: f.source ?? "detected",
      quality: 0,
      norm: NaN,
      vector: new Float32Array(0),
      chip: chips[j] ?? null,
    };
    setVector(face, r.vectors, r.norms, j, model);
    return face;
  });
}

function setVector(
  f: NewFace,
  vectors: Float32Array,
  norms: Float32Array,
  row: number,
  model: EmbeddingModel,
): void {
  f.vector = vectors.slice(row * model.dims, (row + 1) * model.dims);
  f.norm = norms[row] ?? NaN;
  f.quality = faceQuality({
    box: f.box,
    points: f.points,
    norm: f.norm,
    normRange: model.normRange ?? null,
    whole: f.source === "whole",
  });
}
