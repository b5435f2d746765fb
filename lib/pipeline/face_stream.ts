/**
 * The one face loop: photos through a {@link FaceEngine} a few at a time (decode, detect and
 * align of the next photos while the models work on this one), chips of several photos
 * embedded in one batch, and every photo handed back in input order with its faces, unit
 * vectors and norms, or the reason it could not be used. The library's ingest and
 * `embedFaces` both run on it.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import type { RgbImage } from "../image/types.ts";
import type { FaceEngine } from "./face_engine.ts";
import type { PhotoFaces, PhotoFacesOptions } from "./photo_faces.ts";

/** Chips embedded at once on this thread (across photos). */
export const EMBED_BATCH = 32;

/** A photo to look at: read when its turn comes. */
export interface PhotoSource {
  /** Its name in errors. */
  name: string;
  /** Its bytes (or pixels, where the engine runs on this thread). */
  read(): Promise<Uint8Array | RgbImage>;
}

/** One photo's result, in input order. */
export interface StreamedPhoto {
  /** Its index in the sources. */
  index: number;
  /** Its faces with vectors and norms (all embedded), or null when it could not be used. */
  faces: PhotoFaces | null;
  /** Why it could not be used (an unreadable file, an image that does not decode). */
  error: string | null;
}

/** Options of {@link streamFaces}. */
export interface StreamOptions extends Omit<PhotoFacesOptions, "embed"> {
  /** Stops the stream between photos. */
  signal?: AbortSignal;
  /**
   * Called for each photo as soon as its faces are found, while the next photos are in the
   * models (work that needs the chips, not the vectors: encoding them, say).
   */
  onFound?: (index: number, faces: PhotoFaces) => Promise<void> | void;
  /** Seconds spent embedding batches on this thread. */
  onEmbedSeconds?: (seconds: number) => void;
}

type Found = { index: number; faces: PhotoFaces | null; error: string | null; deferred: boolean };

/**
 * Streams photos through the face models.
 *
 * @param engine The models (and workers).
 * @param sources The photos.
 * @param options Limits, chips, a hook per photo, the abort signal.
 * @returns The photos, in order, as they are done.
 *
 * @example
 * ```ts ignore
 * for await (const p of streamFaces(engine, sources, { chips: true })) {
 *   console.log(p.index, p.faces?.faces.length ?? p.error);
 * }
 * ```
 */
export async function* streamFaces(
  engine: FaceEngine,
  sources: PhotoSource[],
  options: StreamOptions = {},
): AsyncGenerator<StreamedPhoto> {
  const { signal, onFound, onEmbedSeconds, ...limits } = options;
  const work = async (index: number): Promise<Found> => {
    let r: PhotoFaces & { deferred: boolean };
    try {
      r = await engine.photo(await sources[index].read(), sources[index].name, limits);
    } catch (e) {
      if (!(e instanceof InputError) && !(e instanceof Deno.errors.NotFound)) throw e;
      const error = e instanceof InputError ? e.problem : `cannot read: ${e.message}`;
      return { index, faces: null, error, deferred: false };
    }
    await onFound?.(index, r);
    return { index, faces: r, error: null, deferred: r.deferred };
  };
  // photos whose chips wait for a batch, and the chips they hold
  let waiting: Found[] = [], chips = 0;
  const embedWaiting = async (): Promise<Found[]> => {
    const batch = waiting.filter((w) => w.deferred).flatMap((w) => w.faces!.chips);
    if (batch.length > 0) {
      const t = performance.now();
      const { vectors, norms } = await engine.embed(batch);
      onEmbedSeconds?.((performance.now() - t) / 1000);
      let row = 0;
      for (const w of waiting) {
        if (!w.deferred) continue;
        const n = w.faces!.faces.length, d = vectors.length / batch.length;
        w.faces!.vectors = vectors.slice(row * d, (row + n) * d);
        w.faces!.norms = norms.slice(row, row + n);
        row += n;
      }
    }
    const done = waiting;
    waiting = [];
    chips = 0;
    return done;
  };
  const inFlight = new Map<number, Promise<Found>>();
  let next = 0;
  try {
    for (let i = 0; i < sources.length; i++) {
      signal?.throwIfAborted();
      while (next < sources.length && next < i + engine.window) {
        const p = work(next);
        p.catch(() => {}); // awaited in order below
        inFlight.set(next++, p);
      }
      const f = await inFlight.get(i)!;
      inFlight.delete(i);
      if (f.deferred) {
        waiting.push(f);
        chips += f.faces!.faces.length;
        if (chips >= EMBED_BATCH) yield* (await embedWaiting()).map(result);
      } else if (waiting.length) waiting.push(f); // keeps the order
      else yield result(f);
    }
    yield* (await embedWaiting()).map(result);
  } finally {
    // a stream left early: the photos still in flight are let finish, their results dropped
    await Promise.allSettled(inFlight.values());
  }
}

const result = (f: Found): StreamedPhoto => ({ index: f.index, faces: f.faces, error: f.error });
