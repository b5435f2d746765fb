/**
 * Reading a file that ships with facecluster (models, shaders) by its `import.meta.url`-relative
 * address: from a checkout or a compiled binary (`--include`) as a file, from a remote import
 * (JSR, a web server) over HTTP.
 *
 * @module
 */

/**
 * The bytes at `url`: a `file:` URL is read from the file system (which in a compiled binary
 * holds the included files), any other is fetched.
 *
 * @param url The address, e.g. `new URL("../models/x.onnx", import.meta.url)`.
 * @returns The bytes.
 * @throws {Error} Naming the address, when it cannot be read.
 *
 * @example
 * ```ts
 * import { readAsset } from "./asset.ts";
 * const bytes = await readAsset(new URL("./asset.ts", import.meta.url));
 * console.log(bytes.length > 0); // true
 * ```
 */
export async function readAsset(url: URL): Promise<Uint8Array> {
  if (url.protocol === "file:") {
    try {
      return await Deno.readFile(url);
    } catch (e) {
      throw new Error(`cannot load ${url}: ${(e as Error).message}`);
    }
  }
  const res = await fetch(url);
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`cannot load ${url}: HTTP ${res.status}`);
  }
  return new Uint8Array(await res.arrayBuffer());
}
