/**
 * A library's store from where it is: a `postgres://` address opens the PostgreSQL store,
 * anything else is a SQLite file.
 *
 * @module
 */

import { isPostgresUrl, PgStore } from "./postgres_store.ts";
import { SqliteStore } from "./sqlite_store.ts";
import type { LibraryStore } from "./store.ts";

/**
 * Opens (creating and migrating) the store at `location`.
 *
 * @param location A SQLite file, or `postgres://user@host:port/database`.
 * @returns The store.
 * @throws {InputError} When it is not a library, is newer, or cannot be reached.
 *
 * @example
 * ```ts
 * import { openStore } from "./open_store.ts";
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/library.db`);
 * console.log((await store.photos()).length); // 0
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openStore(location: string): Promise<LibraryStore> {
  return isPostgresUrl(location) ? await PgStore.open(location) : await SqliteStore.open(location);
}
