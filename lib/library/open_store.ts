/**
 * A library's store from where it is: a `postgres://` address opens the PostgreSQL store,
 * anything else is a SQLite file.
 *
 * @module
 */

import { isPostgresUrl } from "./pg_url.ts";
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
  if (!isPostgresUrl(location)) return await SqliteStore.open(location);
  // the PostgreSQL client is loaded only for a library in PostgreSQL
  const { PgStore } = await import("./postgres_store.ts");
  return await PgStore.open(location);
}
