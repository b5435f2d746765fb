/**
 * `library copy FROM TO`: a library moved between SQLite and PostgreSQL (either way, or to
 * another file or database of the same kind) with everything in it: photos, faces, vectors,
 * neighbour lists, people, the user's decisions and their undo, the files written, and the
 * settings. Ids are kept, so person ids and face ids mean the same after the copy.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import { openStore } from "./open_store.ts";
import { isPostgresUrl } from "./pg_url.ts";
import type { LibraryStore } from "./store.ts";

/** What {@link copyLibrary} copied. */
export interface CopySummary {
  /** Photos. */
  photos: number;
  /** Faces. */
  faces: number;
  /** Persons. */
  persons: number;
  /** Decisions. */
  decisions: number;
}

async function counts(s: LibraryStore): Promise<CopySummary> {
  const snap = await s.snapshot();
  return {
    photos: snap.photos.length,
    faces: snap.faces.length,
    persons: snap.persons.length,
    decisions: (await s.decisions()).length,
  };
}

/**
 * Copies the library at `from` into `to` (a new file, a new database, or an empty library),
 * holding `from`'s writer lock meanwhile so that no run or decision changes it.
 *
 * @param from The library: a SQLite file or a `postgres://` address.
 * @param to Where the copy goes: a SQLite file or a `postgres://` address.
 * @returns What was copied.
 * @throws {InputError} When `to` holds photos, or the copy does not match.
 *
 * @example
 * ```ts ignore
 * await copyLibrary("photos_people/library.db", "postgres://me@db/photos");
 * ```
 */
export async function copyLibrary(from: string, to: string): Promise<CopySummary> {
  if (!isPostgresUrl(from)) {
    try {
      await Deno.stat(from);
    } catch {
      throw new InputError(from, "no library there");
    }
  }
  const source = await openStore(from);
  try {
    const target = await openStore(to);
    try {
      await source.lock(Deno.pid);
      try {
        await target.load(source.dump());
        const [a, b] = [await counts(source), await counts(target)];
        if (JSON.stringify(a) !== JSON.stringify(b)) {
          throw new InputError(
            to,
            `the copy does not match: ${JSON.stringify(b)}, not ${JSON.stringify(a)}`,
          );
        }
        return b;
      } finally {
        await source.unlock(Deno.pid);
      }
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
