/**
 * "Hard to recognise", face by face (issue #24): the main job with `--evaluate` on labeled
 * sets, then each face of the library read back with its cosine to the library's
 * unrecognisable-identity centre, its quality and what the clustering made of it: in a person
 * whose majority identity is its own (right), in another identity's person (wrong), alone, or
 * kept out as hard to recognise. For per-face thresholds t, the faces a gate `cosine ≥ t` would
 * take out: how many, how many of them the clustering had right (the cost), and the precision
 * and recall of the gate against the faces it had wrong. Also the precision and recall of what
 * the library marks hard today.
 *
 *     FACECLUSTER_CACHE=<models> deno run -A bench/hard_faces.ts [--sets lfw_min10,...]
 *       [--degraded] [--keep DIR]
 *
 * Sets are ../shared/faces folders (`orl_att` runs with `--crops`); `--degraded` adds the
 * degraded and mixed copies of `bench/degraded.ts` (40 people, 6 photos each).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Library } from "../lib/library/library.ts";
import { makeDegradedSets } from "../tests/degrade.ts";

const SHARED = new URL("../../shared/", import.meta.url).pathname;
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const THRESHOLDS = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6];

// deno-lint-ignore no-explicit-any -- the CLI's JSON
type Json = any;

async function mainJob(input: string, out: string, crops: boolean): Promise<Json> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI,
      input,
      "--out",
      out,
      "--evaluate",
      "--json",
      "--quiet",
      "--force",
      ...(crops ? ["--crops"] : []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!o.success) throw new Error(new TextDecoder().decode(o.stderr));
  return JSON.parse(new TextDecoder().decode(o.stdout));
}

/** What the clustering made of each face, with its cosine to the centre. */
interface FaceFate {
  cos: number;
  quality: number;
  fate: "right" | "wrong" | "alone" | "hard" | "notface";
}

async function fates(out: string): Promise<FaceFate[]> {
  const lib = await Library.open(`${out}/library.db`);
  try {
    const s = (await lib.settings())!;
    const key = `unrecognisable:${s.model.key}${s.flip ? "-flip" : ""}`;
    const kept = JSON.parse((await lib.store.setting(key)) ?? "null");
    if (!kept) throw new Error(`${out}: no unrecognisable centre kept`);
    const centre = Float32Array.from(kept.centre as number[]);
    const faces = await lib.faces();
    const d = s.model.dims;
    const vectors = await lib.store.vectors(faces.map((f) => f.id), d);
    const byPerson = new Map<number, Map<string, number>>();
    for (const f of faces) {
      if (f.personId === null || f.label === null) continue;
      const m = byPerson.get(f.personId) ?? new Map<string, number>();
      m.set(f.label, (m.get(f.label) ?? 0) + 1);
      byPerson.set(f.personId, m);
    }
    const majority = new Map(
      [...byPerson].map(([p, m]) => [p, [...m].sort((a, b) => b[1] - a[1])[0][0]]),
    );
    return faces.map((f, r) => {
      let cos = 0;
      for (let j = 0; j < d; j++) cos += vectors[r * d + j] * centre[j];
      const fate: FaceFate["fate"] = f.notFace || f.quality < s.minQuality
        ? "notface"
        : f.personId !== null
        ? (majority.get(f.personId) === f.label ? "right" : "wrong")
        : f.hard
        ? "hard"
        : "alone";
      return { cos, quality: f.quality, fate };
    });
  } finally {
    await lib.close();
  }
}

const pct = (a: number, b: number) => (b === 0 ? "–" : `${(100 * a / b).toFixed(1)}%`);

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      sets: { type: "string", default: "lfw_min10,celeb17_web,five_celebrity,orl_att" },
      degraded: { type: "boolean", default: false },
      keep: { type: "string" },
    },
  });
  const root = values.keep ?? await Deno.makeTempDir({ prefix: "fc_hard_" });
  const sets: { name: string; input: string; crops: boolean }[] = values.sets.split(",")
    .filter((x) => x).map((name) => ({
      name,
      input: `${SHARED}faces/${name}`,
      crops: name === "orl_att",
    }));
  if (values.degraded) {
    await makeDegradedSets(`${root}/sets`, 40, 6);
    for (const n of ["degraded", "mixed"]) {
      sets.push({ name: n, input: `${root}/sets/${n}`, crops: false });
    }
  }
  console.log(
    `per-face cosine to the unrecognisable centre, ${
      new Date().toISOString()
    }; faces in people that the clustering had right / wrong, alone, hard (today's person check), not faces`,
  );
  const all: { name: string; f: FaceFate[]; json: Json }[] = [];
  for (const set of sets) {
    const out = `${root}/${set.name}_out`;
    const json = await mainJob(set.input, out, set.crops);
    const f = await fates(out);
    all.push({ name: set.name, f, json });
    const n = (k: FaceFate["fate"]) => f.filter((x) => x.fate === k).length;
    console.log(
      `\n### ${set.name}: ${f.length} faces: right ${n("right")}, wrong ${n("wrong")}, alone ${
        n("alone")
      }, hard ${n("hard")}, not faces ${n("notface")}; BCubed F ${
        json.metrics?.bcubed?.f?.toFixed(4) ?? json.metrics?.bcubed_f
      }`,
    );
    const hard = f.filter((x) => x.fate === "hard");
    console.log(
      `today's hard: ${hard.length}; the 99th percentile of the cosine of faces it had right: ${
        f.filter((x) => x.fate === "right").map((x) => x.cos).sort((a, b) => a - b)[
          Math.floor(0.99 * (n("right") - 1))
        ]?.toFixed(3)
      }`,
    );
    console.log(
      "| gate cos ≥ t | faces taken out | of them right (cost) | of right faces | wrong caught (recall) | precision (wrong or alone among those taken from people or alone) |",
    );
    console.log("|---|---|---|---|---|---|");
    const clusterable = f.filter((x) => x.fate !== "notface");
    for (const t of THRESHOLDS) {
      const out = clusterable.filter((x) => x.cos >= t);
      const right = out.filter((x) => x.fate === "right").length;
      const wrong = out.filter((x) => x.fate === "wrong").length;
      const bad = out.filter((x) => x.fate !== "right").length;
      console.log(
        `| ${t} | ${out.length} | ${right} | ${pct(right, n("right"))} | ${wrong} of ${
          n("wrong")
        } (${pct(wrong, n("wrong"))}) | ${pct(bad, out.length)} |`,
      );
    }
  }
  if (!values.keep) await Deno.remove(root, { recursive: true });
}
