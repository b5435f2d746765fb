/**
 * `demo`: the main job on the six group photos that ship inside an npm package facecluster
 * already depends on (`@vladmandic/face-api`, MIT).
 *
 * @module
 */

import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
// deno-lint-ignore no-import-prefix -- a full specifier, as in lib/: the demo's photos ship in it
import "npm:@vladmandic/face-api@1.7.15/package.json" with { type: "json" };
import { photosCommand } from "./photos.ts";

/** The demo's photos: `demo/sample1.jpg` … `sample6.jpg` of this npm package (MIT). */
const DEMO_PACKAGE = "@vladmandic/face-api";

/**
 * `demo [--out DIR] [options]`: the photos are copied (the package cache is not touched)
 * into a folder beside the output (`demo_photos` beside `demo_people`, the default output),
 * which stays, so that `review demo_people` can show them.
 *
 * @param args The main job's options.
 * @returns The exit code.
 */
export async function demoCommand(args: string[]): Promise<number> {
  // the package is in Deno's npm cache (imported above); its folder there
  const pkg = createRequire(import.meta.url).resolve(`${DEMO_PACKAGE}/package.json`)
    .replace(/package\.json$/, "");
  const rest = [...args];
  const o = rest.indexOf("--out");
  const out = o >= 0 ? rest[o + 1] : "demo_people";
  if (o < 0) rest.push("--out", out);
  const photos = join(dirname(out), `${basename(out).replace(/_people$/, "")}_photos`);
  await Deno.mkdir(photos, { recursive: true });
  for (let i = 1; i <= 6; i++) {
    const to = `${photos}/sample${i}.jpg`;
    if (!(await Deno.stat(to).then((s) => s.isFile, () => false))) {
      await Deno.copyFile(`${pkg}demo/sample${i}.jpg`, to);
    }
  }
  console.error(`demo: 6 group photos from ${DEMO_PACKAGE}@1.7.15 (MIT), in ${photos}`);
  return await photosCommand([photos, ...rest]);
}
