/**
 * SHA-256 digests as lowercase hex.
 *
 * @module
 */

/**
 * The SHA-256 of `bytes`, lowercase hex.
 *
 * @param bytes The data.
 * @returns 64 hex digits.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./hash.ts";
 * console.log((await sha256Hex(new Uint8Array())).slice(0, 8)); // "e3b0c442"
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d).map((b) => b.toString(16).padStart(2, "0")).join("");
}
