/**
 * `review LIBRARY`: the review page over a library, on 127.0.0.1 with a per-start token.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { modelCacheDir } from "../lib/embed/download.ts";
import { InputError } from "../lib/errors.ts";
import { openLibrary } from "../lib/library/open.ts";
import { startReview } from "../lib/review/server.ts";
import { fail, intOption } from "./common.ts";

/**
 * `review LIBRARY [--port N] [--host H --allow-remote] [--cache DIR]`: "re-cluster" on the
 * page is the library's own re-cluster (its settings, its folders).
 *
 * @param args The arguments after the command.
 * @returns The exit code (after Ctrl-C).
 */
export async function reviewCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      "allow-remote": { type: "boolean", default: false },
      cache: { type: "string" },
    },
  });
  if (positionals.length !== 1) return fail("review LIBRARY [--port N]");
  const lib = await openLibrary(positionals[0]);
  try {
    const settings = await lib.settings();
    if (settings === null) {
      throw new InputError(positionals[0], "the library has no photos yet");
    }
    const server = await startReview(lib, {
      hostname: values.host,
      allowRemote: values["allow-remote"],
      port: intOption(values.port, "port", 0),
      cacheDir: values.cache ?? modelCacheDir(),
    });
    console.log(`review ${settings.input}'s people: open ${server.url}`);
    console.log("(Ctrl-C stops it; every decision is already saved in the library)");
    await new Promise<void>((resolve) => Deno.addSignalListener("SIGINT", () => resolve()));
    await server.close();
    return 0;
  } finally {
    await lib.close();
  }
}
