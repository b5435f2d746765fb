/**
 * `recluster LIBRARY`: the library's own re-cluster (its settings, its input and output
 * folders), as the review page's "re-cluster" runs it.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { modelCacheDir } from "../lib/embed/download.ts";
import { openLibrary } from "../lib/library/open.ts";
import { Progress } from "../lib/progress/progress.ts";
import { fail } from "./common.ts";

/**
 * `recluster LIBRARY [--cache DIR] [--json] [--quiet]`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function reclusterCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      cache: { type: "string" },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    },
  });
  if (positionals.length !== 1) return fail("recluster LIBRARY");
  const lib = await openLibrary(positionals[0]);
  const progress = values.quiet ? null : new Progress();
  try {
    const r = await lib.recluster({
      cacheDir: values.cache ?? modelCacheDir(),
      onProgress: (stage, done, total, detail) => progress?.update(stage, done, total, detail),
    });
    progress?.end();
    const j = {
      input: r.update.input,
      people: r.update.people.people,
      changes: r.changes,
      folders: { written: r.folders.written, moved: r.folders.moved, removed: r.folders.removed },
      settings: r.update.settings,
      seconds: r.seconds,
    };
    if (values.json) console.log(JSON.stringify(j));
    else {
      console.log(
        `re-clustered ${j.input}: ${j.people} people (${j.changes.new_people.length} new), ${j.changes.faces_moved} faces changed person; ${j.folders.written} files written, ${j.folders.moved} moved, ${j.folders.removed} removed`,
      );
    }
    return 0;
  } finally {
    await lib.close();
  }
}
