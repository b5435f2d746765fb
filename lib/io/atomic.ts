/**
 * Writing files so that an interrupted run never leaves a half-written one: everything goes
 * to a temporary name in the same folder and is renamed into place.
 *
 * @module
 */

import { InputError } from "../errors.ts";

/**
 * A temporary name beside `path` (a hidden file in the same folder, so the rename is atomic).
 *
 * @param path The destination.
 * @returns The temporary path.
 *
 * @example
 * ```ts
 * import { temporaryPath } from "./atomic.ts";
 * console.log(temporaryPath("/out/a.txt").startsWith("/out/.a.txt.")); // true
 * ```
 */
export function temporaryPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${Deno.pid}.tmp`;
}

/**
 * Makes `path` with `write(tmp)` under a temporary name, then renames it into place; on any
 * failure the temporary file is removed and the error names `path`.
 *
 * @param path The destination.
 * @param write Writes the file at the path it is given.
 * @throws {InputError} If the file cannot be written.
 *
 * @example
 * ```ts ignore
 * import { writeAtomically } from "./atomic.ts";
 * await writeAtomically("copy.jpg", (tmp) => Deno.copyFile("a.jpg", tmp));
 * ```
 */
export async function writeAtomically(
  path: string,
  write: (tmp: string) => Promise<void>,
): Promise<void> {
  const tmp = temporaryPath(path);
  try {
    await write(tmp);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new InputError(path, `cannot write: ${(e as Error).message}`);
  }
}

/**
 * Writes text or bytes to `path` atomically (see {@link writeAtomically}).
 *
 * @param path The destination.
 * @param data The contents.
 * @throws {InputError} If the file cannot be written.
 *
 * @example
 * ```ts ignore
 * import { writeFileAtomic } from "./atomic.ts";
 * await writeFileAtomic("out.txt", "0\n1\n");
 * ```
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await writeAtomically(
    path,
    (tmp) => typeof data === "string" ? Deno.writeTextFile(tmp, data) : Deno.writeFile(tmp, data),
  );
}
