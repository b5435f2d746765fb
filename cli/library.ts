/**
 * `library copy FROM TO`: a library copied between SQLite and PostgreSQL.
 *
 * @module
 */

import { copyLibrary } from "../lib/library/copy.ts";
import { LIBRARY_FILE } from "../lib/library/open.ts";
import { isPostgresUrl } from "../lib/library/pg_url.ts";
import { fail } from "./common.ts";

/** An output folder stands for its library file. */
async function libraryPath(where: string): Promise<string> {
  if (isPostgresUrl(where)) return where;
  try {
    if ((await Deno.stat(where)).isDirectory) return `${where.replace(/\/+$/, "")}/${LIBRARY_FILE}`;
  } catch { /* a new file */ }
  return where;
}

/**
 * `library copy FROM TO [--json]`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function libraryCommand(args: string[]): Promise<number> {
  const json = args.includes("--json");
  const rest = args.filter((a) => a !== "--json");
  if (rest.length !== 3 || rest[0] !== "copy") return fail("library copy FROM TO");
  const [from, to] = [await libraryPath(rest[1]), await libraryPath(rest[2])];
  const r = await copyLibrary(from, to);
  if (json) console.log(JSON.stringify(r));
  else {
    console.log(
      `copied ${r.photos} photos, ${r.faces} faces, ${r.persons} persons and ${r.decisions} decisions`,
    );
  }
  return 0;
}
