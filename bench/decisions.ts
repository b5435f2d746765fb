/**
 * The user's decisions at length: the property test of `tests/decision_property.ts` (random
 * names, merges, moves, splits, "not this person", "not a face" and undos, re-runs and new
 * photos, the user's intent checked after every step) for thousands of steps over
 * bbt_faceapi, five_celebrity and twelve lfw_min10 people. Needs ../shared; models from
 * $FACECLUSTER_CACHE (YuNet and MobileFaceNet).
 *
 * `deno run -A bench/decisions.ts [--steps N] [--seed S]` (default 5,000 steps, seed 1):
 * a fifth on bbt_faceapi, two fifths on each of the others. Prints one line per library and
 * a Markdown row; throws at the first step that breaks the user's intent.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { modelCacheDir } from "../lib/embed/download.ts";
import { lfwTwelve, propertyOnSet } from "../tests/decision_property.ts";
import { sharedPhotos } from "../tests/shared.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { steps: { type: "string", default: "5000" }, seed: { type: "string", default: "1" } },
  });
  const steps = Number(values.steps), seed = Number(values.seed);
  const cache = modelCacheDir();
  const root = await Deno.makeTempDir({ prefix: "facecluster-bench-decisions-" });
  const t0 = performance.now();
  try {
    const o = { cache, root, log: console.log };
    const parts: [string, string[], number][] = [
      ["bbt_faceapi", sharedPhotos("bbt_faceapi"), Math.round(steps / 5)],
      ["five_celebrity", sharedPhotos("five_celebrity"), Math.round((steps * 2) / 5)],
      ["lfw_min10", lfwTwelve(), steps - Math.round(steps / 5) - Math.round((steps * 2) / 5)],
    ];
    let checks = 0, reruns = 0, added = 0, done = 0;
    for (const [i, [set, files, n]] of parts.entries()) {
      const r = await propertyOnSet(set, files, { ...o, steps: n, seed: seed * 10 + i });
      checks += r.checks;
      reruns += r.reruns;
      added += r.added;
      done += r.steps;
    }
    const secs = (performance.now() - t0) / 1000;
    console.log(
      `| decisions property (seed ${seed}) | ${done} steps | ${reruns} re-runs (${added} with new photos) | ${checks} checks, none failed | ${
        secs.toFixed(0)
      } s |`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
