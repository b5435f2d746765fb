/**
 * Faces nobody can recognise (issue #24), measured: degraded copies of lfw_min10's photos made
 * here, with their labels kept (one folder per person), the main job run on them as a user runs
 * it, and what the people look like: BCubed F, the purity of the ten largest people, and the
 * junk people among them (no identity holds half of the faces). Five degradations, each hard
 * enough to hide who it is:
 *
 * - blur: a Gaussian blur of sigma 6;
 * - dark: brightness × 0.12 with a little noise;
 * - shadow: the left half of the picture × 0.05 (a side light);
 * - lowres: down to 14 pixels wide and back up;
 * - cut: the picture cut to its right 40% (a face at the frame's edge).
 *
 * Sets: `degraded` (the degraded copies of the first PEOPLE people's photos, PER of each) and
 * `mixed` (the same plus the clean photos of those people). Needs ../shared and the models in
 * $FACECLUSTER_CACHE. `deno run -A bench/degraded.ts [--people 40] [--per 6] [--keep DIR]`.
 * Prints one Markdown row per set; with `--keep DIR` the sets and their outputs stay there.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { Library } from "../lib/library/library.ts";
import { startReview } from "../lib/review/server.ts";
import { makeDegradedSets } from "../tests/degrade.ts";
import { sharedPhotos } from "../tests/shared.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any -- the CLI's JSON and clusters.json
type Json = any;

/** The main job on a set; its summary and manifest. */
async function mainJob(input: string, out: string): Promise<{ json: Json; manifest: Json }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, input, "--out", out, "--evaluate", "--json", "--quiet", "--force"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (r.code !== 0) throw new Error(new TextDecoder().decode(r.stderr));
  return {
    json: JSON.parse(new TextDecoder().decode(r.stdout)),
    manifest: JSON.parse(await Deno.readTextFile(`${out}/clusters.json`)),
  };
}

/** The ten largest people: size, the top identity's share, and how many are junk. */
function largest(manifest: Json): { rows: string[]; junk: number; worst: number } {
  const byPerson = new Map<number, Json[]>();
  for (const f of manifest.faces) {
    if (f.person === null) continue;
    byPerson.set(f.person, [...(byPerson.get(f.person) ?? []), f]);
  }
  const top = [...byPerson.values()].sort((a, b) => b.length - a.length).slice(0, 10);
  let junk = 0, worst = 1;
  const rows = top.map((faces) => {
    const count = new Map<string, number>();
    for (const f of faces) count.set(f.label ?? "?", (count.get(f.label ?? "?") ?? 0) + 1);
    const [label, n] = [...count].sort((a, b) => b[1] - a[1])[0];
    const purity = n / faces.length;
    worst = Math.min(worst, purity);
    if (purity < 0.5) junk++;
    const kinds = new Set(faces.map((f: Json) => f.file.split("/")[1].split("_")[0]));
    return `${faces.length} faces, ${
      (100 * purity).toFixed(0)
    }% ${label} (${count.size} identities; ${[...kinds].join("/")})`;
  });
  return { rows, junk, worst };
}

/**
 * The review page's first screen on a library in Chromium (1280 × 800): a screenshot, and the
 * purity of every person card on it.
 */
async function firstScreen(out: string, shots: string): Promise<string> {
  const manifest = JSON.parse(await Deno.readTextFile(`${out}/clusters.json`));
  const lib = await Library.open(`${out}/library.db`);
  const server = await startReview(lib);
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    bypassCSP: true,
    viewport: { width: 1280, height: 800 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    const page = await ctx.newPage();
    await page.goto(server.url);
    await page.waitForFunction(
      `document.body.dataset.ready === "people" && [...document.querySelectorAll(".card img")].slice(0, 12).every((i) => i.complete && i.naturalWidth > 0)`,
    );
    await Deno.mkdir(shots, { recursive: true });
    const shot = `${shots}/degraded_mixed_review.png`;
    await page.screenshot({ path: shot });
    const visible: number[] = await page.evaluate(`[...document.querySelectorAll(".card.person")]
      .filter((c) => c.getBoundingClientRect().top < innerHeight).map((c) => Number(c.dataset.person))`);
    const worst = Math.min(...visible.map((id) => {
      const faces = manifest.faces.filter((f: Json) => f.person === id);
      const count = new Map<string, number>();
      for (const f of faces) {
        count.set(f.file.split("/")[0], (count.get(f.file.split("/")[0]) ?? 0) + 1);
      }
      return Math.max(...count.values()) / faces.length;
    }));
    return `review page, first screen of the mixed library: ${visible.length} people, the least pure ${
      (100 * worst).toFixed(0)
    }% one identity (${worst < 0.5 ? "a junk person" : "no junk person"}); screenshot ${shot}`;
  } finally {
    await ctx.close();
    await server.close();
    await lib.close();
    await Deno.remove(profile, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      people: { type: "string", default: "40" },
      per: { type: "string", default: "6" },
      keep: { type: "string" },
    },
  });
  const photos = sharedPhotos("lfw_min10");
  const people = [...new Set(photos.map((p) => p.split("/")[0]))].slice(0, Number(values.people));
  const root = values.keep ?? await Deno.makeTempDir({ prefix: "facecluster-bench-degraded-" });
  try {
    await makeDegradedSets(root, Number(values.people), Number(values.per));
    console.log(
      "| set | photos | faces (not faces) | people | BCubed F | NMI | coverage | junk among the 10 largest | worst purity |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|");
    const details: string[] = [];
    for (const set of ["degraded", "mixed"]) {
      const { json: j, manifest } = await mainJob(`${root}/${set}`, `${root}/${set}_people`);
      const l = largest(manifest);
      console.log(
        `| ${set} (${people.length} people) | ${j.photos} | ${j.faces} (${j.not_faces}) | ${j.people} | ${
          j.metrics.bcubed.f.toFixed(4)
        } | ${j.metrics.nmi.toFixed(4)} | ${j.coverage.toFixed(4)} | ${l.junk} | ${
          l.worst.toFixed(2)
        } |`,
      );
      details.push(`${set}: the ten largest people`, ...l.rows.map((r) => `  ${r}`));
    }
    console.log(details.join("\n"));
    console.log(await firstScreen(`${root}/mixed_people`, values.keep ?? "out/bench-artifacts"));
  } finally {
    if (!values.keep) await Deno.remove(root, { recursive: true });
  }
}
