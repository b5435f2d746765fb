/**
 * The library's cost: the main job on lfw_min10's first 90% (file order), the same again
 * unchanged, the last 10% added, and unchanged again, each as a user runs it (a fresh
 * `deno run -A cli.ts` process, wall time around it), with the stage seconds the CLI reports
 * and the share of the first run's time. Needs ../shared; models from $FACECLUSTER_CACHE.
 *
 * `deno run -A bench/library.ts [SET]` (default lfw_min10). Prints Markdown rows.
 *
 * @module
 */

import { linkSharedPhotos, sharedPhotos } from "../tests/shared.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any -- the CLI's JSON
type Json = any;

async function run(input: string, out: string): Promise<{ wall: number; json: Json }> {
  const t0 = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, input, "--out", out, "--quiet", "--json", "--evaluate"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wall = (performance.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(new TextDecoder().decode(r.stderr));
  return { wall, json: JSON.parse(new TextDecoder().decode(r.stdout)) };
}

function persons(out: string): Map<number, number | null> {
  const m = JSON.parse(Deno.readTextFileSync(`${out}/clusters.json`));
  return new Map(m.faces.map((f: Json) => [f.id, f.person]));
}

if (import.meta.main) {
  const set = Deno.args[0] ?? "lfw_min10";
  const files = sharedPhotos(set);
  const root = await Deno.makeTempDir({ prefix: "facecluster-bench-library-" });
  const link = (list: string[]) => linkSharedPhotos(set, list, `${root}/in`);
  const cut = Math.floor(files.length * 0.9);
  await link(files.slice(0, cut));
  const out = `${root}/out`;
  const rows: string[] = [];
  let first = 0;
  const row = (what: string, r: { wall: number; json: Json }, extra = "") => {
    const j = r.json, s = j.seconds;
    if (!first) first = r.wall;
    rows.push(
      `| ${what} | ${j.photos} | ${j.changes.new_photos} | ${r.wall.toFixed(1)} | ${
        (100 * r.wall / first).toFixed(1)
      }% | ${s.scan.toFixed(2)} | ${s.faces.toFixed(1)} | ${
        s.knn.toFixed(2)
      } (${j.knn_backend}) | ${s.cluster.toFixed(2)} | ${
        s.write.toFixed(2)
      } | ${j.folders.written} / ${j.folders.moved} / ${j.folders.removed} | ${j.people} (${j.changes.new_people.length} new) | ${
        j.metrics.bcubed.f.toFixed(4)
      } | ${extra} |`,
    );
    console.error(rows.at(-1));
  };
  try {
    row(`first run, first 90%`, await run(`${root}/in`, out));
    const before = persons(out);
    row("again, unchanged", await run(`${root}/in`, out));
    await link(files.slice(cut));
    const added = await run(`${root}/in`, out);
    const after = persons(out);
    let inPerson = 0, kept = 0;
    for (const [id, p] of before) {
      if (p === null) continue;
      inPerson++;
      if (after.get(id) === p) kept++;
    }
    row("last 10% added", added, `${kept}/${inPerson} (${(100 * kept / inPerson).toFixed(2)}%)`);
    row("again, unchanged", await run(`${root}/in`, out));
    console.log(
      `| run (${set}) | photos | new | wall s | of the first | scan | faces | kNN | cluster | write | files written / moved / removed | people | BCubed F | faces keeping their person id |`,
    );
    console.log(
      `| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`,
    );
    for (const r of rows) console.log(r);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
