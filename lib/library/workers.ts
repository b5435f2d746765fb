/**
 * Several machines, one library: a scan registers the photos of a shared folder once (the
 * paths relative to its root) and queues them in batches; workers on any number of
 * machines, each with its own root for the same shared storage, claim batches, find their
 * faces and store them (one transaction per few photos, idempotent); the last worker to find
 * nothing left runs the clustering step as the library's one writer.
 *
 * @module
 */

import { InputError, LibraryBusyError } from "../errors.ts";
import type { FaceEngine } from "../pipeline/face_engine.ts";
import type { ExportSummary } from "./export.ts";
import type { IngestSummary } from "./ingest.ts";
import type { Library, RunSummary, UpdateOptions } from "./library.ts";
import { PhotoQueue, type PhotoQueueOptions, type QueuedPhoto } from "./photo_queue.ts";
import { isPostgresUrl, unreachable } from "./pg_url.ts";

/** The setting holding a few registered photos a worker checks its root against. */
const ROOT_PROBE = "worker_root_probe";

/** Photos a batch holds, by default: a few seconds of work, small enough to lose. */
export const DEFAULT_BATCH = 8;

/** A database that stayed unreachable. */
class DatabaseGone extends InputError {}

/** What {@link registerPhotos} did. */
export interface RegisterSummary {
  /** Images under the root. */
  photos: number;
  /** Photos queued for the workers. */
  queued: number;
  /** Batches queued. */
  batches: number;
  /** Photos moved or touched (their faces kept), forgotten, or copies of others. */
  faces: IngestSummary;
}

function needsPostgres(lib: Library): void {
  if (!isPostgresUrl(lib.store.location)) {
    throw new InputError(
      lib.store.location,
      "workers share a PostgreSQL library: give --library postgres://…",
    );
  }
}

/**
 * Registers the photos under `root` for the workers (see {@link Library.register}): the
 * settings are fixed now, and the photos whose faces are to be found are queued, `batch`
 * photos a job.
 *
 * @param lib A PostgreSQL library.
 * @param url Its address (with the password, when there is one).
 * @param root The photo folder, as this machine sees it.
 * @param options The settings (as for a run), the batch size and queue options.
 * @returns What was registered.
 * @throws {InputError} For a library that is not on PostgreSQL.
 *
 * @example
 * ```ts ignore
 * const lib = await Library.open(url);
 * const r = await registerPhotos(lib, url, "/mnt/photos");
 * console.log(`${r.queued} photos in ${r.batches} batches`);
 * ```
 */
export async function registerPhotos(
  lib: Library,
  url: string,
  root: string,
  options: UpdateOptions & { batch?: number; queue?: PhotoQueueOptions } = {},
): Promise<RegisterSummary> {
  needsPostgres(lib);
  const queue = await PhotoQueue.open(url, { ...options.queue, policy: true });
  try {
    const size = Math.max(1, options.batch ?? DEFAULT_BATCH);
    let batches = 0;
    const r = await lib.register(root, async (todo) => {
      const photos: QueuedPhoto[] = todo.map((i) => ({
        path: i.relative,
        size: i.size,
        mtime: i.mtime,
      }));
      const jobs: QueuedPhoto[][] = [];
      for (let s = 0; s < photos.length; s += size) jobs.push(photos.slice(s, s + size));
      // a few of them, spread, for the workers to check their root against
      if (photos.length > 0) {
        const probe = [0, 0.25, 0.5, 0.75, 1].map((f) =>
          photos[Math.round(f * (photos.length - 1))]
        );
        await lib.store.setSetting(ROOT_PROBE, JSON.stringify(probe));
      }
      await queue.add(jobs);
      batches = jobs.length;
    }, options);
    return { photos: r.photos, queued: r.queued, batches, faces: r.faces };
  } finally {
    await queue.close();
  }
}

/**
 * Checks that `root` holds the registered photos (a few of them, by size), so that a worker
 * given a wrong root refuses before it claims anything.
 *
 * @param lib The library.
 * @param root The worker's root.
 * @throws {InputError} Naming the root and the first photo missing or different.
 *
 * @example
 * ```ts ignore
 * await checkRoot(lib, "/mnt/photos");
 * ```
 */
export async function checkRoot(lib: Library, root: string): Promise<void> {
  try {
    if (!(await Deno.stat(root)).isDirectory) throw new InputError(root, "not a folder");
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(root, `cannot read: ${(e as Error).message}`);
  }
  const probe = JSON.parse((await lib.store.setting(ROOT_PROBE)) ?? "[]") as QueuedPhoto[];
  for (const p of probe) {
    let size = -1;
    try {
      size = (await Deno.stat(`${root.replace(/\/+$/, "")}/${p.path}`)).size;
    } catch { /* missing */ }
    if (size !== p.size) {
      throw new InputError(
        root,
        `is not the root the photos were registered from: ${p.path} is ${
          size < 0 ? "missing" : `${size} bytes, not ${p.size}`
        } there (give --root the folder that the scan saw, as this machine mounts it)`,
      );
    }
  }
}

/** Options of {@link runWorker}. */
export interface WorkerOptions extends Pick<PhotoQueueOptions, "superviseSeconds"> {
  /** Where the photos are on this machine. */
  root: string;
  /** Model cache, inference device, face workers (WASM). */
  engine?: Pick<UpdateOptions, "cacheDir" | "inference" | "workers">;
  /** Run the clustering step when the last batch is done. @default true */
  cluster?: boolean;
  /** The output folder the clustering writes (default: the library's, if it has one). */
  out?: string | null;
  /** Batches claimed at a time. @default 16 */
  claim?: number;
  /** How long (ms) to wait between looks at a queue whose last batches others hold. @default 1000 */
  poll?: number;
  /** How long (s) to keep trying a database that cannot be reached. @default 60 */
  dbWait?: number;
  /** A batch done. */
  onBatch?: (photos: number, faces: number) => void;
  /** One-line notices. */
  onNotice?: (message: string) => void;
  /** Stops after the batch in hand (its claim expires, and another worker takes it). */
  signal?: AbortSignal;
}

/** What {@link runWorker} did. */
export interface WorkerSummary {
  /** Batches this worker did. */
  batches: number;
  /** Photos it stored. */
  photos: number;
  /** Photos that could not be used, and why. */
  failed: { file: string; error: string }[];
  /** The clustering it ran (null: another worker runs it, or it was not asked for). */
  cluster: (Omit<RunSummary, "folders"> & { folders: ExportSummary | null }) | null;
  /** Seconds in all. */
  seconds: number;
}

/**
 * A worker: claims batches until none is left, finds and stores their faces, then runs the
 * clustering step unless another worker holds the library.
 *
 * @param lib A PostgreSQL library with photos registered.
 * @param url Its address.
 * @param o The root, engine options, queue options.
 * @returns What it did.
 * @throws {InputError} For a wrong root (before anything is claimed), or a database that
 *   stays unreachable for `dbWait` seconds (what was stored stays).
 *
 * @example
 * ```ts ignore
 * const lib = await Library.open(url);
 * const r = await runWorker(lib, url, { root: "/mnt/photos" });
 * console.log(`${r.photos} photos`);
 * ```
 */
export async function runWorker(
  lib: Library,
  url: string,
  o: WorkerOptions,
): Promise<WorkerSummary> {
  const t0 = performance.now();
  needsPostgres(lib);
  if ((await lib.settings()) === null) {
    throw new InputError(lib.store.location, "no photos registered (run the scan first)");
  }
  await checkRoot(lib, o.root);
  const notice = o.onNotice ?? (() => {});
  const summary: WorkerSummary = { batches: 0, photos: 0, failed: [], cluster: null, seconds: 0 };
  const queue = await PhotoQueue.open(url, { superviseSeconds: o.superviseSeconds });
  let engine: FaceEngine | null = null;
  /** Runs `fn`, waiting for a database that went away (up to `dbWait` seconds). */
  const withDb = async <T>(fn: () => Promise<T>): Promise<T> => {
    const until = Date.now() + (o.dbWait ?? 60) * 1000;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        const why = unreachable(e);
        if (why === null) throw e;
        if (Date.now() >= until) {
          throw new DatabaseGone(
            lib.store.location,
            `cannot reach the library's database (${why}); what was stored stays, and a worker started again goes on from there`,
          );
        }
        notice(`the library's database cannot be reached (${why}); trying again`);
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  };
  try {
    for (;;) {
      o.signal?.throwIfAborted();
      // several batches at a time: the face models keep photos in flight and drain at the end
      // of each call (lfw_min10, 4,324 photos, photo work alone: 55.0 s claiming 4 batches of 8
      // a call, 45.4 s claiming 16; the SQLite main job's 47.5 s)
      const batches = await withDb(() => queue.claim(o.claim ?? 16));
      if (batches.length === 0) {
        if ((await withDb(() => queue.pending())) === 0) break;
        await new Promise((r) => setTimeout(r, o.poll ?? 1000)); // others hold the last ones
        continue;
      }
      const ids = batches.map((b) => b.id), photos = batches.flatMap((b) => b.photos);
      let r: IngestSummary;
      try {
        r = await withDb(async () =>
          await lib.addPhotos(o.root, photos, async () => {
            engine ??= await lib.faceEngine({ ...o.engine });
            return engine;
          })
        );
      } catch (e) {
        if (e instanceof DatabaseGone) throw e;
        notice(`batches ${ids.join(", ")}: ${(e as Error).message}; given back to be tried again`);
        await withDb(() => queue.failed(ids, (e as Error).message));
        continue;
      }
      await withDb(() => queue.done(ids));
      summary.batches += batches.length;
      summary.photos += r.added + r.failed.length;
      for (const f of r.failed) summary.failed.push(f);
      o.onBatch?.(photos.length, r.added);
    }
    if ((await queue.failedForGood()) > 0) {
      notice(
        `${await queue
          .failedForGood()} batches failed every time they were tried; their photos are not in the library`,
      );
    }
  } finally {
    await (engine as FaceEngine | null)?.close();
    await queue.close();
  }
  if (o.cluster !== false) {
    try {
      summary.cluster = await withDb(() =>
        lib.cluster({ cacheDir: o.engine?.cacheDir, inference: o.engine?.inference, out: o.out })
      );
    } catch (e) {
      if (!(e instanceof LibraryBusyError)) throw e;
      notice(`another process holds the library (${e.message}); it runs the clustering`);
    }
  }
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}
