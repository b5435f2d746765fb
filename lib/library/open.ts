/**
 * Where a library lives and how it is opened: the output folder beside the input, the
 * library file in it (`library.db`), the checks that keep the input and the output apart, a
 * non-empty folder without a library refused unless forced, and `fresh` setting an old
 * library aside (renamed, never deleted; the files it wrote and nobody changed removed).
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { InputError } from "../errors.ts";
import { cleanOutputs } from "./export.ts";
import { Library } from "./library.ts";
import { isPostgresUrl } from "./pg_url.ts";

/** The library's file in an output folder. */
export const LIBRARY_FILE = "library.db";

/**
 * The default output folder: beside the input, `<input>_people`.
 *
 * @param input The input folder.
 * @returns The output folder.
 *
 * @example
 * ```ts
 * import { defaultOutput } from "./open.ts";
 * console.log(defaultOutput("/photos/2024")); // "/photos/2024_people"
 * ```
 */
export function defaultOutput(input: string): string {
  return `${resolve(input)}_people`;
}

async function realOrResolved(p: string): Promise<string> {
  try {
    return await Deno.realPath(p);
  } catch {
    return resolve(p);
  }
}

/**
 * Checks an output folder against its input: never the input, inside it, or above it.
 *
 * @param input The input folder.
 * @param out The output folder (it may not exist yet).
 * @returns Its real path and the names in it now.
 * @throws {InputError} For an output folder inside the input or holding it, or unreadable.
 *
 * @example
 * ```ts ignore
 * const { entries } = await checkOutputFolder("photos", "photos_people");
 * ```
 */
export async function checkOutputFolder(
  input: string,
  out: string,
): Promise<{ real: string; entries: string[] }> {
  const inReal = await realOrResolved(input), outReal = await realOrResolved(out);
  if (outReal === inReal || outReal.startsWith(inReal + "/")) {
    throw new InputError(
      out,
      `the output folder may not be the input folder or inside it (${input})`,
    );
  }
  if (inReal.startsWith(outReal + "/")) {
    throw new InputError(out, `the output folder may not contain the input folder (${input})`);
  }
  let entries: string[] = [];
  try {
    entries = (await Array.fromAsync(Deno.readDir(out))).map((e) => e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new InputError(out, `cannot read: ${(e as Error).message}`);
    }
  }
  return { real: outReal, entries };
}

/**
 * Checks that the input is a readable folder.
 *
 * @param input The photo folder.
 * @throws {InputError} When it is not a folder or cannot be read.
 *
 * @example
 * ```ts ignore
 * await checkInputFolder("photos");
 * ```
 */
export async function checkInputFolder(input: string): Promise<void> {
  try {
    if (!(await Deno.stat(input)).isDirectory) throw new InputError(input, "not a folder");
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(input, `cannot read: ${(e as Error).message}`);
  }
}

/** Options of {@link openAtOutput}. */
export interface OpenAtOutputOptions {
  /** The photo folder. */
  input: string;
  /** The output folder. @default defaultOutput(input) */
  out?: string;
  /** The library file. @default OUT/library.db */
  library?: string;
  /** Write into a non-empty output folder that holds no library. */
  force?: boolean;
  /** Start a new library; the old one is renamed aside. */
  fresh?: boolean;
  /** How long decisions wait for a run (ms). */
  wait?: number;
  /** One-line notices (the old library set aside). */
  onNotice?: (message: string) => void;
}

/**
 * Opens (or creates) the library of an output folder for a run on `input`: the folders are
 * checked against each other, a non-empty output without a library is refused unless
 * `force`, and `fresh` sets an earlier library aside first.
 *
 * @param o The folders and choices.
 * @returns The library, the output folder's real path and the library file.
 * @throws {InputError} For folders that overlap, a library inside the input, or a non-empty
 *   output folder without a library.
 *
 * @example
 * ```ts ignore
 * const { lib, out } = await openAtOutput({ input: "photos" });
 * await lib.run("photos", out);
 * await lib.close();
 * ```
 */
export async function openAtOutput(
  o: OpenAtOutputOptions,
): Promise<{ lib: Library; out: string; path: string }> {
  const given = o.out ?? defaultOutput(o.input);
  const { real, entries } = await checkOutputFolder(o.input, given);
  const path = o.library ?? `${real}/${LIBRARY_FILE}`;
  if (o.library !== undefined && !isPostgresUrl(o.library)) {
    // the library is written: never into the input
    const inReal = await Deno.realPath(o.input);
    const dir = resolve(dirname(o.library));
    const dirReal = await Deno.realPath(dir).catch(() => dir);
    if (dirReal === inReal || dirReal.startsWith(inReal + "/")) {
      throw new InputError(
        o.library,
        `the library may not be inside the input folder (${o.input})`,
      );
    }
  }
  const isLibrary = entries.includes(LIBRARY_FILE) || o.library !== undefined;
  if (entries.length > 0 && !isLibrary && !o.force) {
    throw new InputError(
      given,
      "the output folder is not empty and holds no library (use --force to write into it)",
    );
  }
  await Deno.mkdir(real, { recursive: true });
  if (o.fresh && isPostgresUrl(path)) {
    throw new InputError(
      o.library!,
      "--fresh takes a library file; a database is set aside by its administrator",
    );
  }
  if (o.fresh) await setAside(path, real, o.onNotice ?? (() => {}));
  return { lib: await Library.open(path, { wait: o.wait }), out: real, path };
}

/**
 * The library of `where`: an output folder holding one, the library file itself, or a
 * `postgres://` address.
 *
 * @param where The folder or file.
 * @param wait How long its decisions wait for a run (ms).
 * @returns The library.
 * @throws {InputError} When there is no library there.
 *
 * @example
 * ```ts ignore
 * const lib = await openLibrary("photos_people");
 * console.log(await lib.people());
 * ```
 */
export async function openLibrary(where: string, wait?: number): Promise<Library> {
  if (isPostgresUrl(where)) return await Library.open(where, { wait });
  let path = where;
  try {
    if ((await Deno.stat(where)).isDirectory) path = `${where.replace(/\/+$/, "")}/${LIBRARY_FILE}`;
    await Deno.stat(path);
  } catch {
    throw new InputError(where, "no library there (run the main job on your photos first)");
  }
  return await Library.open(path, { wait });
}

/**
 * `fresh`: the files the old library wrote (and the user did not change) are removed, and
 * the library file is renamed aside (`library.db.<time>.bak`), never deleted.
 */
async function setAside(
  path: string,
  out: string,
  notice: (message: string) => void,
): Promise<void> {
  try {
    await Deno.stat(path);
  } catch {
    return;
  }
  const old = await Library.open(path);
  try {
    await old.exclusive(() => cleanOutputs(old, out));
  } finally {
    await old.close();
  }
  const aside = `${path}.${new Date().toISOString().replace(/[:.]/g, "-")}.bak`;
  for (const ext of ["-wal", "-shm"]) await Deno.remove(path + ext).catch(() => {});
  await Deno.rename(path, aside);
  notice(`--fresh: the earlier library is kept as ${aside}`);
}
