/**
 * Finding the images in a folder: a recursive walk in a stable order, images recognised by
 * their bytes (a hidden file, `.name.jpg`, is taken like any other), the output folder left
 * out; hidden folders, symlink loops, unreadable files and non-images reported and skipped,
 * so that every entry is either taken or listed with its reason.
 *
 * @module
 */

import { type ImageFormat, sniffFormat } from "../image/decode.ts";

/** An image file found by {@link scanFolder}. */
export interface ScannedImage {
  /** The path as found (root joined with the relative path). */
  path: string;
  /** Path relative to the root, with `/` separators. */
  relative: string;
  /**
   * Format recognised from the first bytes; null when they were not read again (the caller
   * knew the file, unchanged, from an earlier scan: see {@link ScanOptions.known}).
   */
  format: ImageFormat | null;
  /** Size in bytes. */
  size: number;
  /** Last modification, ms since the epoch (0 where the file system does not say). */
  mtime: number;
  /**
   * The first folder below the root: the person, when the input is labeled (one subfolder
   * per person); null for files directly in the root.
   */
  label: string | null;
}

/** A file or folder that was skipped, and why. */
export interface ScanProblem {
  /** The path. */
  path: string;
  /** What is wrong, e.g. "not an image" or "symlink loop". */
  problem: string;
}

/** Options of {@link scanFolder}. */
export interface ScanOptions {
  /** Folders to leave out (e.g. the output folder), compared by real path. */
  exclude?: string[];
  /**
   * Files the caller already knows as images, unchanged (same size and mtime): their first
   * bytes are not read again.
   */
  known?: (relative: string, size: number, mtime: number) => boolean;
  /** Called for every image found, for progress. */
  onImage?: (image: ScannedImage) => void;
}

/** What {@link scanFolder} found. */
export interface ScanResult {
  /** Images, in a stable order (by path, code point order at every level). */
  images: ScannedImage[];
  /** Entries that were skipped, each with its reason. */
  skipped: ScanProblem[];
}

/** Why a hidden folder is not walked (thumbnails, version control, trash live there). */
export const HIDDEN_FOLDER =
  "hidden folder (its name starts with a dot): not scanned; rename it to include its photos";

async function realPath(p: string): Promise<string | null> {
  try {
    return await Deno.realPath(p);
  } catch {
    return null;
  }
}

async function head(path: string, n: number): Promise<Uint8Array> {
  const f = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = await f.read(buf.subarray(got));
      if (r === null) break;
      got += r;
    }
    return buf.subarray(0, got);
  } finally {
    f.close();
  }
}

/** Entries of one folder looked at at once (each may hold a file open). */
const LOOKS_AT_ONCE = 32;

/** A folder entry looked at: its stat (following links) and, for a file, its first bytes. */
async function look(
  path: string,
  known: (size: number, mtime: number) => boolean,
): Promise<{ info: Deno.FileInfo; head: Uint8Array | null } | { error: string; stat: boolean }> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path); // follows symlinks
  } catch (e) {
    return { error: `cannot read: ${(e as Error).message}`, stat: true };
  }
  if (!info.isFile || known(info.size, info.mtime?.getTime() ?? 0)) return { info, head: null };
  try {
    return { info, head: await head(path, 16) };
  } catch (e) {
    return { error: `cannot read: ${(e as Error).message}`, stat: false };
  }
}

/** The entries of a folder looked at side by side (stat, first bytes), in their order. */
async function lookAll(
  dir: string,
  rel: string,
  entries: Deno.DirEntry[],
  options: ScanOptions,
): Promise<Awaited<ReturnType<typeof look>>[]> {
  const looks: Awaited<ReturnType<typeof look>>[] = new Array(entries.length);
  let next = 0;
  const lane = async () => {
    while (next < entries.length) {
      const i = next++;
      const rel1 = rel ? `${rel}/${entries[i].name}` : entries[i].name;
      looks[i] = await look(
        `${dir}/${entries[i].name}`,
        (size, mtime) => options.known?.(rel1, size, mtime) ?? false,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKS_AT_ONCE, entries.length) }, lane));
  return looks;
}

/**
 * Walks `root` and returns its images.
 *
 * @param root The folder to scan.
 * @param options Folders to exclude, progress callback.
 * @returns The images and the skipped entries.
 * @throws {Deno.errors.NotFound} If `root` does not exist.
 *
 * @example
 * ```ts ignore
 * import { scanFolder } from "./scan.ts";
 * const { images, skipped } = await scanFolder("photos");
 * console.log(images.length, skipped);
 * ```
 */
export async function scanFolder(root: string, options: ScanOptions = {}): Promise<ScanResult> {
  const images: ScannedImage[] = [];
  const skipped: ScanProblem[] = [];
  const excluded = new Set<string>();
  for (const e of options.exclude ?? []) {
    const r = await realPath(e);
    if (r) excluded.add(r);
  }
  const rootReal = await Deno.realPath(root);
  const onPath = new Set<string>(); // real paths of the folders being walked (loop check)

  const walk = async (dir: string, rel: string, real: string): Promise<void> => {
    onPath.add(real);
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (e) {
      skipped.push({ path: dir, problem: `cannot read folder: ${(e as Error).message}` });
      onPath.delete(real);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const looks = await lookAll(dir, rel, entries, options);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i], look = looks[i];
      const path = `${dir}/${entry.name}`;
      const relative = rel ? `${rel}/${entry.name}` : entry.name;
      if ("error" in look) {
        const problem = look.stat && entry.isSymlink ? "broken symbolic link" : look.error;
        skipped.push({ path, problem });
        continue;
      }
      const info = look.info;
      if (info.isDirectory) {
        const r = await realPath(path);
        if (!r) {
          skipped.push({ path, problem: "cannot resolve folder" });
          continue;
        }
        if (excluded.has(r)) continue;
        if (entry.name.startsWith(".")) {
          skipped.push({ path, problem: HIDDEN_FOLDER });
          continue;
        }
        if (onPath.has(r)) {
          skipped.push({ path, problem: "symlink loop (leads back to a folder above it)" });
          continue;
        }
        await walk(path, relative, r);
        continue;
      }
      if (!info.isFile) {
        skipped.push({ path, problem: "not a regular file" });
        continue;
      }
      const format = look.head === null ? null : sniffFormat(look.head);
      if (look.head !== null && !format) {
        skipped.push({ path, problem: look.head.length === 0 ? "empty file" : "not an image" });
        continue;
      }
      const slash = relative.indexOf("/");
      const image: ScannedImage = {
        path,
        relative,
        format,
        size: info.size,
        mtime: info.mtime?.getTime() ?? 0,
        label: slash >= 0 ? relative.slice(0, slash) : null,
      };
      images.push(image);
      options.onImage?.(image);
    }
    onPath.delete(real);
  };
  await walk(root.replace(/\/+$/, "") || "/", "", rootReal);
  return { images, skipped };
}
