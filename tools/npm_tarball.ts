/**
 * Fetching files out of a published npm package: the tarball from the npm registry, its
 * sha512 checked against the registry's integrity field, gunzipped and read as tar.
 *
 * @module
 */

const REGISTRY = "https://registry.npmjs.org";

/**
 * Downloads `name@version` from the npm registry and returns the files whose paths
 * (inside the tarball, e.g. `package/model/x.bin`) are in `paths`.
 *
 * @param name Package name, e.g. "@vladmandic/face-api".
 * @param version Exact version.
 * @param paths Files to extract.
 * @returns The files' bytes by path.
 * @throws {Error} On a network error, an integrity mismatch or a missing file.
 *
 * @example
 * ```ts ignore
 * import { npmPackageFiles } from "./npm_tarball.ts";
 * const files = await npmPackageFiles("@vladmandic/face-api", "1.7.15", ["package/package.json"]);
 * ```
 */
export async function npmPackageFiles(
  name: string,
  version: string,
  paths: string[],
): Promise<Map<string, Uint8Array>> {
  const metaRes = await fetch(`${REGISTRY}/${name.replace("/", "%2f")}/${version}`);
  if (!metaRes.ok) throw new Error(`npm registry: ${name}@${version}: HTTP ${metaRes.status}`);
  const meta = await metaRes.json() as { dist: { tarball: string; integrity: string } };
  const res = await fetch(meta.dist.tarball);
  if (!res.ok) throw new Error(`${meta.dist.tarball}: HTTP ${res.status}`);
  const tgz = new Uint8Array(await res.arrayBuffer());
  const [algo, b64] = meta.dist.integrity.split("-");
  if (algo !== "sha512") throw new Error(`unexpected integrity algorithm ${algo}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", tgz));
  if (btoa(String.fromCharCode(...digest)) !== b64) {
    throw new Error(`${name}@${version}: tarball does not match the registry's sha512`);
  }
  const tar = new Uint8Array(
    await new Response(new Blob([tgz]).stream().pipeThrough(new DecompressionStream("gzip")))
      .arrayBuffer(),
  );
  return untar(tar, paths);
}

/**
 * Reads the named regular files from a (ustar) tar archive.
 *
 * @param tar The archive.
 * @param paths Files wanted.
 * @returns Their bytes by path.
 * @throws {Error} If a wanted file is missing.
 *
 * @example
 * ```ts ignore
 * const files = untar(tarBytes, ["package/README.md"]);
 * ```
 */
export function untar(tar: Uint8Array, paths: string[]): Map<string, Uint8Array> {
  const want = new Set(paths);
  const out = new Map<string, Uint8Array>();
  const dec = new TextDecoder();
  const field = (o: number, n: number) => dec.decode(tar.subarray(o, o + n)).replace(/\0.*$/s, "");
  let p = 0;
  while (p + 512 <= tar.length) {
    const name = field(p, 100);
    if (!name) break;
    const prefix = field(p + 345, 155);
    const path = prefix ? `${prefix}/${name}` : name;
    const size = parseInt(field(p + 124, 12).trim() || "0", 8);
    const type = String.fromCharCode(tar[p + 156]);
    if ((type === "0" || type === "\0") && want.has(path)) {
      out.set(path, tar.slice(p + 512, p + 512 + size));
    }
    p += 512 + Math.ceil(size / 512) * 512;
  }
  for (const w of want) if (!out.has(w)) throw new Error(`tarball has no ${w}`);
  return out;
}
