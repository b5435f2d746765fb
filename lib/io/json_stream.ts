/**
 * JSON of any size, a piece at a time: `JSON.stringify` builds one string, and V8 refuses
 * strings longer than about 512 MB (a `clusters.json` of a million faces is larger). The
 * pieces joined are exactly what `JSON.stringify(value, null, indent)` gives for plain data;
 * an array or object is split into its elements, each of which is stringified whole.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { writeAtomically } from "./atomic.ts";

function* pieces(value: unknown, indent: number, depth: number): Generator<string> {
  const pad = indent > 0 ? "\n" + " ".repeat(indent * (depth + 1)) : "";
  const end = indent > 0 ? "\n" + " ".repeat(indent * depth) : "";
  const whole = (v: unknown) => {
    const s = JSON.stringify(v, null, indent);
    return indent > 0 ? s.replaceAll("\n", "\n" + " ".repeat(indent * (depth + 1))) : s;
  };
  if (Array.isArray(value)) {
    if (value.length === 0) return yield "[]";
    yield "[";
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      yield (i ? "," : "") + pad + (v === undefined || typeof v === "function" ? "null" : whole(v));
    }
    yield end + "]";
  } else if (value !== null && typeof value === "object" && !("toJSON" in value)) {
    const entries = Object.entries(value).filter(([, v]) =>
      v !== undefined && typeof v !== "function"
    );
    if (entries.length === 0) return yield "{}";
    yield "{";
    let first = true;
    for (const [k, v] of entries) {
      yield (first ? "" : ",") + pad + JSON.stringify(k) + (indent > 0 ? ": " : ":");
      first = false;
      // one level further for the large arrays (a manifest's faces and photos)
      if (Array.isArray(v) && v.length > 1000) yield* pieces(v, indent, depth + 1);
      else yield whole(v);
    }
    yield end + "}";
  } else yield JSON.stringify(value);
}

/**
 * The pieces of `JSON.stringify(value, null, indent)`.
 *
 * @param value Plain data.
 * @param indent Spaces a level (0: compact).
 * @returns The pieces, in order.
 *
 * @example
 * ```ts
 * import { jsonPieces } from "./json_stream.ts";
 * console.log([...jsonPieces({ a: [1, 2] }, 1)].join("") === JSON.stringify({ a: [1, 2] }, null, 1)); // true
 * ```
 */
export function jsonPieces(value: unknown, indent = 0): Iterable<string> {
  return pieces(value, indent, 0);
}

/**
 * Writes `JSON.stringify(value, null, indent) + "\n"` to `path` atomically, a piece at a time.
 *
 * @param path The file.
 * @param value Plain data.
 * @param indent Spaces a level.
 * @throws {InputError} When the file cannot be written.
 *
 * @example
 * ```ts ignore
 * await writeJsonAtomic("out/clusters.json", manifest, 1);
 * ```
 */
export async function writeJsonAtomic(path: string, value: unknown, indent = 0): Promise<void> {
  await writeAtomically(path, async (tmp) => {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      const enc = new TextEncoder();
      let buf: string[] = [], size = 0;
      const flush = async () => {
        const bytes = enc.encode(buf.join(""));
        for (let o = 0; o < bytes.length;) o += await file.write(bytes.subarray(o));
        buf = [];
        size = 0;
      };
      for (const p of jsonPieces(value, indent)) {
        buf.push(p);
        if ((size += p.length) > 1 << 20) await flush();
      }
      buf.push("\n");
      await flush();
    } finally {
      file.close();
    }
  });
}

/**
 * The SHA-256 (hex) of `JSON.stringify(value)`, without building that string.
 *
 * @param value Plain data.
 * @returns The digest.
 *
 * @example
 * ```ts
 * import { jsonDigest } from "./json_stream.ts";
 * console.log(jsonDigest({ a: 1 }).length); // 64
 * ```
 */
export function jsonDigest(value: unknown): string {
  const h = createHash("sha256");
  for (const p of jsonPieces(value, 0)) h.update(p);
  return h.digest("hex");
}
