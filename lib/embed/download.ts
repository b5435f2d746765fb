/**
 * Downloading model files into a user cache: the sha256 of every file is checked before
 * it is used, a download goes to a `.partial` file that is renamed only once complete and
 * verified (a model file is never half-written), an interrupted download resumes with an
 * HTTP range request, and failures are clear messages. `FACECLUSTER_MODEL_MIRROR` points the
 * downloads at a mirror that serves the same files by name.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import { sha256Hex } from "../io/hash.ts";

/** A file of a downloadable model. */
export interface RemoteFile {
  /** File name in the cache. */
  name: string;
  /** Public address. */
  url: string;
  /** Expected sha256, lowercase hex. */
  sha256: string;
  /** Expected size in bytes. */
  size: number;
}

/**
 * The model cache folder: `$FACECLUSTER_CACHE` if set, else `facecluster/models` in the
 * platform's cache folder, as Deno places its own (`$XDG_CACHE_HOME` or `~/.cache` on Linux,
 * `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows).
 *
 * @returns The folder path.
 *
 * @example
 * ```ts ignore
 * import { modelCacheDir } from "./download.ts";
 * console.log(modelCacheDir()); // e.g. /home/me/.cache/facecluster/models
 * ```
 */
export function modelCacheDir(): string {
  const env = (k: string) => Deno.env.get(k);
  const own = env("FACECLUSTER_CACHE");
  if (own) return own;
  if (Deno.build.os === "windows") return `${env("LOCALAPPDATA") ?? "."}\\facecluster\\models`;
  if (Deno.build.os === "darwin") return `${env("HOME")}/Library/Caches/facecluster/models`;
  return `${env("XDG_CACHE_HOME") ?? `${env("HOME")}/.cache`}/facecluster/models`;
}

async function sha256File(path: string): Promise<string> {
  return await sha256Hex(await Deno.readFile(path));
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return -1;
  }
}

/**
 * Whether `file` is in `dir` with its size and sha256.
 *
 * @param file The file.
 * @param dir The cache folder.
 * @returns True when it can be used as it is.
 *
 * @example
 * ```ts ignore
 * console.log(await isCached(file, modelCacheDir()));
 * ```
 */
export async function isCached(file: RemoteFile, dir: string): Promise<boolean> {
  const path = `${dir}/${file.name}`;
  return (await fileSize(path)) === file.size && (await sha256File(path)) === file.sha256;
}

/** Options of {@link fetchRemoteFile}. */
export interface FetchOptions {
  /** Attempts (each resumes where the last stopped). @default 4 */
  attempts?: number;
  /** Receives bytes done and total. */
  onProgress?: (done: number, total: number) => void;
  /** Stops the download. */
  signal?: AbortSignal;
}

/**
 * Makes sure `file` is in `dir` with the right sha256, downloading it when it is not.
 *
 * @param file The file.
 * @param dir The cache folder (created if needed).
 * @param options Attempts, progress, abort signal.
 * @returns The verified file's path.
 * @throws {InputError} On an HTTP error, no network, or a file whose sha256 is wrong.
 *
 * @example
 * ```ts ignore
 * import { fetchRemoteFile, modelCacheDir } from "./download.ts";
 * const path = await fetchRemoteFile(file, modelCacheDir());
 * ```
 */
export async function fetchRemoteFile(
  file: RemoteFile,
  dir: string,
  options: FetchOptions = {},
): Promise<string> {
  const path = `${dir}/${file.name}`, partial = `${path}.partial`;
  // a mirror (FACECLUSTER_MODEL_MIRROR=http://host/dir) serves the same files by name
  const mirror = Deno.env.get("FACECLUSTER_MODEL_MIRROR");
  if (mirror) file = { ...file, url: `${mirror.replace(/\/+$/, "")}/${file.name}` };
  if (await isCached(file, dir)) return path;
  await Deno.mkdir(dir, { recursive: true });
  const attempts = Math.max(1, options.attempts ?? 4);
  let lastError = "";
  for (let attempt = 0; attempt < attempts; attempt++) {
    options.signal?.throwIfAborted();
    let have = Math.max(0, await fileSize(partial));
    if (have > file.size) {
      await Deno.remove(partial);
      have = 0;
    }
    if (have < file.size) {
      let res: Response;
      try {
        res = await fetch(file.url, {
          headers: have > 0 ? { Range: `bytes=${have}-` } : {},
          signal: options.signal,
        });
      } catch (e) {
        if (options.signal?.aborted) throw e;
        lastError = `cannot reach ${file.url}: ${(e as Error).message}`;
        continue;
      }
      if (res.status === 200 && have > 0) have = 0; // the server ignored the range: start over
      else if (!res.ok) {
        await res.body?.cancel();
        throw new InputError(file.url, `HTTP ${res.status} ${res.statusText}`.trim());
      }
      const out = await Deno.open(partial, {
        write: true,
        create: true,
        append: have > 0,
        truncate: have === 0,
      });
      try {
        let done = have;
        for await (const chunk of res.body!) {
          for (let o = 0; o < chunk.length;) o += await out.write(chunk.subarray(o));
          done += chunk.length;
          options.onProgress?.(done, file.size);
        }
      } catch (e) {
        if (options.signal?.aborted) throw e;
        lastError = `the download of ${file.url} broke off: ${(e as Error).message}`;
        continue;
      } finally {
        out.close();
      }
    }
    const got = await fileSize(partial);
    if (got < file.size) {
      lastError = `the download of ${file.url} stopped at ${got} of ${file.size} bytes`;
      continue;
    }
    const sha = await sha256File(partial);
    if (got !== file.size || sha !== file.sha256) {
      await Deno.remove(partial).catch(() => {});
      throw new InputError(
        file.url,
        `wrong file: ${got} bytes with sha256 ${sha}, expected ${file.size} bytes with ${file.sha256}`,
      );
    }
    await Deno.rename(partial, path);
    return path;
  }
  throw new InputError(file.url, `${lastError} (after ${attempts} attempts)`);
}
