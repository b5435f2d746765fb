/**
 * Typed arrays as stored bytes and back, and the time as stored: the cells both stores
 * (SQLite and PostgreSQL) write the same way.
 *
 * @module
 */

/**
 * Stored bytes as a Float32Array (a copy, aligned).
 *
 * @example
 * ```ts
 * import { bytes, f32 } from "./cells.ts";
 * console.log(f32(bytes(Float32Array.of(1.5)))[0]); // 1.5
 * ```
 */
export const f32 = (b: Uint8Array): Float32Array =>
  new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/**
 * Stored bytes as an Int32Array (a copy, aligned).
 *
 * @example
 * ```ts
 * import { bytes, i32 } from "./cells.ts";
 * console.log(i32(bytes(Int32Array.of(7)))[0]); // 7
 * ```
 */
export const i32 = (b: Uint8Array): Int32Array =>
  new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/**
 * A typed array's bytes, as stored (a view, no copy).
 *
 * @example
 * ```ts
 * import { bytes } from "./cells.ts";
 * console.log(bytes(Float32Array.of(1)).length); // 4
 * ```
 */
export const bytes = (a: Float32Array | Int32Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * The time now, as stored (ISO).
 *
 * @example
 * ```ts
 * import { now } from "./cells.ts";
 * console.log(now().endsWith("Z")); // true
 * ```
 */
export const now = (): string => new Date().toISOString();
