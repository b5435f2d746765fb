/**
 * Writing a link list as `source target weight` lines.
 *
 * @module
 */

import { writeAtomically } from "./atomic.ts";
import type { Links } from "../knn/links.ts";

/**
 * Writes one `source target weight` line per link, streamed in blocks through a temporary
 * file that is renamed at the end.
 *
 * @param path The destination.
 * @param links The links.
 * @throws {InputError} If the file cannot be written.
 *
 * @example
 * ```ts ignore
 * import { writeLinks } from "./links_file.ts";
 * await writeLinks("links.txt", result.links);
 * ```
 */
export async function writeLinks(path: string, links: Links): Promise<void> {
  const enc = new TextEncoder();
  await writeAtomically(path, async (tmp) => {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      const m = links.source.length;
      for (let e0 = 0; e0 < m; e0 += 65536) {
        const lines: string[] = [];
        for (let e = e0; e < Math.min(m, e0 + 65536); e++) {
          lines.push(`${links.source[e]} ${links.target[e]} ${links.weight[e]}\n`);
        }
        const bytes = enc.encode(lines.join(""));
        for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
      }
    } finally {
      file.close();
    }
  });
}
