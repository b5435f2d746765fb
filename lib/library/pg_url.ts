/**
 * PostgreSQL addresses and connection errors, without the client (so that a library file
 * never loads it).
 *
 * @module
 */

/**
 * Whether a library location is a PostgreSQL address.
 *
 * @param location A file path or an address.
 * @returns True for `postgres://…` and `postgresql://…`.
 *
 * @example
 * ```ts
 * import { isPostgresUrl } from "./pg_url.ts";
 * console.log(isPostgresUrl("postgres://me@db/photos")); // true
 * ```
 */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}

/**
 * The address without its password, for messages.
 *
 * @param url The address.
 * @returns It, with the password as `***`.
 *
 * @example
 * ```ts
 * import { safeUrl } from "./pg_url.ts";
 * console.log(safeUrl("postgres://me:secret@db/photos")); // "postgres://me:***@db/photos"
 * ```
 */
export function safeUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

/**
 * The error of a database that cannot be reached (refused, stopped, dropped), or null for
 * any other error.
 *
 * @param e The error.
 * @returns A one-line reason, or null.
 *
 * @example
 * ```ts
 * import { unreachable } from "./pg_url.ts";
 * console.log(unreachable(new Error("x"))); // null
 * ```
 */
export function unreachable(e: unknown): string | null {
  const err = e as { code?: string; message?: string };
  const codes = [
    "ECONNREFUSED",
    "ECONNRESET",
    "CONNECTION_CLOSED",
    "CONNECTION_ENDED",
    "CONNECTION_DESTROYED",
    "CONNECT_TIMEOUT",
    "57P01", // admin_shutdown
    "57P02", // crash_shutdown
    "57P03", // cannot_connect_now
    "08006",
    "08001",
    "08003",
  ];
  if (err?.code && codes.includes(err.code)) return `${err.code}: ${err.message}`;
  if (/ECONNREFUSED|Connection refused|connection closed|EPIPE/i.test(err?.message ?? "")) {
    return err.message!;
  }
  return null;
}
