/**
 * Writing files so that an interrupted run never leaves a half-written one.
 *
 * @module
 */

import { InputError } from "../errors.ts";

/**
 * Writes text to `path` through a temporary file in the same folder and a rename, so that
 * an interrupted write never leaves a half-written file at `path`.
 *
 * @param path The destination.
 * @param text The contents.
 *
 * @example
 * ```ts ignore
 * import { writeTextAtomic } from "./atomic.ts";
 * await writeTextAtomic("out.txt", "0\n1\n");
 * ```
 */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${Deno.pid}.${Date.now()}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new InputError(path, `cannot write: ${(e as Error).message}`);
  }
}
