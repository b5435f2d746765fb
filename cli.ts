/**
 * The facecluster command line: `deno run -A cli.ts PHOTOS_DIR`, the people commands,
 * `review`, `demo`, `models` and `cluster-features`. Each command lives in `cli/`, parses its
 * arguments, calls the library (`mod.ts`, `lib/`) and prints; this file only dispatches and
 * turns errors into exit codes.
 *
 * @module
 */

import { clusterFeaturesCommand } from "./cli/features.ts";
import { decisionCommand, DECISIONS } from "./cli/decisions.ts";
import { demoCommand } from "./cli/demo.ts";
import { modelsCommand } from "./cli/models.ts";
import { photosCommand } from "./cli/photos.ts";
import { reclusterCommand } from "./cli/recluster.ts";
import { reviewCommand } from "./cli/review.ts";
import { USAGE } from "./cli/usage.ts";
import { clusterCommand, scanCommand, workerCommand } from "./cli/workers.ts";
import { libraryCommand } from "./cli/library.ts";
import { fail } from "./cli/common.ts";
import { InputError, LibraryBusyError } from "./lib/errors.ts";

export { USAGE };

/** The exit code when another process is writing the library (nothing was changed). */
const BUSY = 3;

/**
 * Runs the command line with `args` and returns the exit code.
 *
 * @param args The arguments after the program name.
 * @returns 0 on success, 1 on bad input, 2 on bad usage, 3 when another process is writing
 *   the library (nothing was changed), 130 when stopped by Ctrl-C (what was stored stays).
 *
 * @example
 * ```ts ignore
 * import { main } from "./cli.ts";
 * Deno.exit(await main(["cluster-features", "feats.npy", "--json"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === undefined || command === "-h" || command === "--help" || command === "help") {
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === "cluster-features") return await clusterFeaturesCommand(rest);
    if (command === "models") return await modelsCommand(rest);
    if (command === "demo") return await demoCommand(rest);
    if (DECISIONS.includes(command)) return await decisionCommand(command, rest);
    if (command === "review") return await reviewCommand(rest);
    if (command === "recluster") return await reclusterCommand(rest);
    if (command === "scan") return await scanCommand(rest);
    if (command === "worker") return await workerCommand(rest);
    if (command === "cluster") return await clusterCommand(rest);
    if (command === "library") return await libraryCommand(rest);
    return await photosCommand(args);
  } catch (e) {
    if (e instanceof LibraryBusyError) {
      console.error(`error: ${e.message}`);
      return BUSY;
    }
    if (e instanceof InputError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      return fail(e.message);
    }
    throw e;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
