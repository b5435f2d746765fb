/**
 * The review page's speed on a large library: the people page and the largest person's page
 * opened in Debian's Chromium (playwright-core), timed from navigation to the first cards
 * drawn with their images loaded. `deno run -A bench/review.ts [LIBRARY_DIR]`; without one,
 * a library of lfw_min10 is made first (the main job, models from $FACECLUSTER_CACHE).
 *
 * @module
 */

import { chromium } from "playwright-core";
import { Library } from "../lib/library/library.ts";
import { startReview } from "../lib/review/server.ts";

const SHARED = new URL("../../shared/", import.meta.url).pathname;

if (import.meta.main) {
  let dir = Deno.args[0];
  let made: string | null = null;
  if (!dir) {
    made = await Deno.makeTempDir({ prefix: "facecluster-bench-review-" });
    dir = `${made}/out`;
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../cli.ts", import.meta.url).pathname,
        `${SHARED}faces/lfw_min10`,
        "--out",
        dir,
        "--quiet",
      ],
    }).output();
    if (r.code !== 0) throw new Error("the main job failed");
  }
  const lib = await Library.open(`${dir}/library.db`);
  const faces = (await lib.faces()).length;
  const people = await lib.people();
  const server = await startReview(lib);
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    bypassCSP: true, // waitForFunction's strings are evaluated
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const page = await ctx.newPage();
  const drawn =
    `document.querySelectorAll(".card img").length > 0 && [...document.querySelectorAll(".card img")].slice(0, 12).every((i) => i.complete && i.naturalWidth > 0)`;
  const rows: string[] = [];
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    await page.goto(server.url);
    await page.waitForFunction(`document.body.dataset.ready === "people" && ${drawn}`);
    const peopleMs = performance.now() - t0;
    const cards = await page.locator(".card").count();
    const t1 = performance.now();
    await page.click(`.card.person[data-person="${people[0].id}"]`);
    await page.waitForFunction(
      `document.body.dataset.ready === "person/${people[0].id}" && ${drawn}`,
    );
    const personMs = performance.now() - t1;
    const faceCards = await page.locator(".card.face").count();
    rows.push(
      `| ${run + 1} | ${faces} faces, ${people.length} people | ${
        peopleMs.toFixed(0)
      } (${cards} cards) | ${personMs.toFixed(0)} (person ${people[0].id}: ${
        people[0].faces
      } faces, ${faceCards} drawn) |`,
    );
  }
  console.log("| run | library | people page ms | largest person's page ms |");
  console.log("| --- | --- | --- | --- |");
  for (const r of rows) console.log(r);
  await ctx.close();
  await server.close();
  await lib.close();
  await Deno.remove(profile, { recursive: true });
  if (made) await Deno.remove(made, { recursive: true });
}
