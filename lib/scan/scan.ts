/**
 * Finding the images in a folder: a recursive walk in a stable order, images recognised by
 * their bytes, hidden entries and the output folder left out, symlink loops, unreadable
 * files and non-images reported and skipped.
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
  /** Format recognised from the first bytes. */
  format: ImageFormat;
  /** Size in bytes. */
  size: number;
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
  /** Called for every image found, for progress. */
  onImage?: (image: ScannedImage) => void;
}

/** What {@link scanFolder} found. */
export interface ScanResult {
  /** Images, in a stable order (by path, code point order at every level). */
  images: ScannedImage[];
  /** Entries that were skipped with a reason (hidden entries are not listed). */
  skipped: ScanProblem[];
}

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
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const path = `${dir}/${entry.name}`;
      const relative = rel ? `${rel}/${entry.name}` : entry.name;
      let info: Deno.FileInfo;
      try {
        info = await Deno.stat(path); // follows symlinks
      } catch (e) {
        const problem = entry.isSymlink
          ? "broken symbolic link"
          : `cannot read: ${(e as Error).message}`;
        skipped.push({ path, problem });
        continue;
      }
      if (info.isDirectory) {
        const r = await realPath(path);
        if (!r) {
          skipped.push({ path, problem: "cannot resolve folder" });
          continue;
        }
        if (excluded.has(r)) continue;
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
      let bytes: Uint8Array;
      try {
        bytes = await head(path, 16);
      } catch (e) {
        skipped.push({ path, problem: `cannot read: ${(e as Error).message}` });
        continue;
      }
      const format = sniffFormat(bytes);
      if (!format) {
        skipped.push({ path, problem: bytes.length === 0 ? "empty file" : "not an image" });
        continue;
      }
      const slash = relative.indexOf("/");
      const image: ScannedImage = {
        path,
        relative,
        format,
        size: info.size,
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
