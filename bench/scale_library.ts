/**
 * The library at scale: a library of N synthetic faces (the LFW profile of `synthetic.ts`,
 * 128-d like MobileFaceNet) built through the real store, one face per photo, each photo a
 * real small face crop from `../shared/faces/lfw_min10` (distinct bytes per file) and each
 * chip that crop as the library stores chips. Then, each stage in its own process (time and
 * peak memory from GNU time): the first clustering and export (the main job after the photo
 * work, which is skipped: the faces are already stored), runs that add 1% and 10% new faces
 * (stored the same way, then the main job), an unchanged re-run, the review page in Chromium
 * (people page; the largest person) and the library's size on disk.
 *
 *     FACECLUSTER_CACHE=<models> deno run -A bench/scale_library.ts [--faces 100000] [--keep DIR [--resume]]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { Library } from "../lib/library/library.ts";
import type { NewFace } from "../lib/library/store.ts";
import { readNpy } from "../lib/io/npy.ts";
import { loadSharp } from "../lib/image/decode.ts";
import { CHIP_QUALITY } from "../lib/image/encode_chip.ts";
import { fivePoints } from "../lib/align/templates.ts";
import { measureProfile, profileFaces, syntheticLandmarks } from "./synthetic.ts";

const SHARED = new URL("../../shared/", import.meta.url).pathname;
const LFW = `${SHARED}faces/lfw_min10`;
const SELF = new URL(import.meta.url).pathname;
const PER_FOLDER = 1000;

/** Real face crops (112 × 112 JPEG) cut from lfw_min10's photos around their centre. */
async function crops(count: number): Promise<Uint8Array[]> {
  const sharp = (await loadSharp())!;
  const files: string[] = [];
  for (const p of [...Deno.readDirSync(LFW)].sort((a, b) => a.name < b.name ? -1 : 1)) {
    for (const e of [...Deno.readDirSync(`${LFW}/${p.name}`)].map((x) => x.name).sort()) {
      files.push(`${LFW}/${p.name}/${e}`);
    }
  }
  const out: Uint8Array[] = [];
  for (const f of files.slice(0, count)) {
    const buf = await sharp(await Deno.readFile(f)).extract({
      left: 70,
      top: 70,
      width: 110,
      height: 110,
    })
      .resize(112, 112).jpeg({ quality: CHIP_QUALITY }).toBuffer();
    out.push(new Uint8Array(buf));
  }
  return out;
}

/** The profile of MobileFaceNet on LFW (as bench/scale.ts measures it). */
async function profile() {
  const ref = `${SHARED}reference/lfw1000_embeddings/`;
  const f = await readNpy(`${ref}mobilefacenet.npy`);
  const l = (await Deno.readTextFile(`${ref}labels.txt`)).trim().split("\n");
  return measureProfile(f, l, "lfw1000 MobileFaceNet");
}

/**
 * Writes photos `from`..`to` (one real crop each, made distinct by a trailing comment) and
 * stores them with their faces, as the photo work would.
 */
async function addFaces(dir: string, from: number, to: number, seed: number): Promise<void> {
  const input = `${dir}/photos`;
  const chips = await crops(2000);
  const { features } = profileFaces(to - from, 128, await profile(), { seed });
  const lib = await Library.open(`${dir}/out/library.db`);
  try {
    const batch: {
      photo: Parameters<typeof lib.store.putPhotos>[0][0]["photo"];
      faces: NewFace[];
    }[] = [];
    const lm = syntheticLandmarks(56, 56, 0.9, 0);
    const flush = async () => {
      await lib.store.putPhotos(batch.splice(0));
    };
    for (let i = from; i < to; i++) {
      const folder = `${input}/f${String(Math.floor(i / PER_FOLDER)).padStart(4, "0")}`;
      if (i % PER_FOLDER === 0 || i === from) await Deno.mkdir(folder, { recursive: true });
      const chip = chips[i % chips.length];
      const tag = new TextEncoder().encode(`facecluster scale photo ${i}`);
      const bytes = new Uint8Array(chip.length + tag.length);
      bytes.set(chip);
      bytes.set(tag, chip.length);
      const path = `${folder}/p${i}.jpg`;
      await Deno.writeFile(path, bytes);
      const st = await Deno.stat(path);
      const v = features.data.slice((i - from) * 128, (i - from + 1) * 128);
      batch.push({
        photo: {
          path: path.slice(input.length + 1),
          size: st.size,
          mtime: st.mtime?.getTime() ?? 0,
          sha256: createHash("sha256").update(bytes).digest("hex"),
          width: 112,
          height: 112,
          status: "faces",
          error: null,
          duplicateOf: null,
        },
        faces: [{
          box: { x: 16, y: 16, width: 80, height: 80 },
          landmarks: lm,
          points: fivePoints(lm),
          score: 0.99,
          source: "detected",
          quality: 0.95,
          norm: 20,
          vector: v,
          chip,
        }],
      });
      if (batch.length === 1000) await flush();
    }
    await flush();
  } finally {
    await lib.close();
  }
}

/** One stage, in this process (the driver runs each in its own). */
async function stage(name: string, dir: string, n: number): Promise<void> {
  const t0 = performance.now();
  const input = `${dir}/photos`, out = `${dir}/out`;
  let detail: Record<string, unknown> = {};
  if (name === "init") {
    // the library's settings as the main job writes them, on an empty input
    await Deno.mkdir(input, { recursive: true });
    await Deno.mkdir(out, { recursive: true });
    const lib = await Library.open(`${out}/library.db`);
    await lib.update(input, { exclude: [out] });
    await lib.close();
  } else if (name.startsWith("store:")) {
    const [from, to] = name.slice(6).split("-").map(Number);
    await addFaces(dir, from, to, from + 1);
    detail = { stored: to - from };
  } else if (name === "run") {
    const lib = await Library.open(`${out}/library.db`);
    try {
      const r = await lib.run(input, out, {});
      const nb = r.update.people.neighbours;
      detail = {
        photos: r.update.photos,
        faces: r.update.people.faces,
        people: r.update.people.people,
        moved: r.update.people.moved,
        knn: `${nb.backend}${nb.full ? ", full" : `, ${nb.searched} searched`}`,
        parts: {
          ...r.seconds,
          knn: r.update.people.seconds.knn,
          infomap: r.update.people.seconds.cluster,
          store: r.update.people.seconds.store,
        },
      };
    } finally {
      await lib.close();
    }
  }
  console.log(
    JSON.stringify({ stage: name, n, seconds: (performance.now() - t0) / 1000, ...detail }),
  );
}

/** Runs a stage in a child process under GNU time. */
async function child(name: string, dir: string, n: number): Promise<Record<string, unknown>> {
  const res = await new Deno.Command("/usr/bin/time", {
    args: [
      "-f",
      "PEAK_KB %M",
      Deno.execPath(),
      "run",
      "-A",
      // V8's default heap (about 4 GiB) is too small for the main job at a million faces
      // (measured: it ran out after 357 s); users pass the same flag (README)
      "--v8-flags=--max-old-space-size=16384",
      SELF,
      "--stage",
      name,
      "--dir",
      dir,
      "--faces",
      String(n),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(res.stderr);
  if (res.code !== 0) throw new Error(`stage ${name} failed:\n${err.slice(-3000)}`);
  const line = new TextDecoder().decode(res.stdout).trim().split("\n").pop()!;
  return { ...JSON.parse(line), peakMiB: Number(/PEAK_KB (\d+)/.exec(err)?.[1]) / 1024 };
}

function du(path: string): number {
  let total = 0;
  for (const e of Deno.readDirSync(path)) {
    const p = `${path}/${e.name}`;
    if (e.isDirectory) total += du(p);
    else if (e.isFile) total += Deno.statSync(p).size;
  }
  return total;
}

async function driver(n: number, keep?: string, resume = false): Promise<void> {
  const dir = keep ?? await Deno.makeTempDir({ prefix: "fc_scale_lib_" });
  const f = (x: unknown, p = 1) => (typeof x === "number" ? x.toFixed(p) : String(x ?? "–"));
  const rows: string[] = [];
  const row = (what: string, r: Record<string, unknown>, note = "") => {
    rows.push(`| ${what} | ${f(r.seconds)} | ${f(r.peakMiB, 0)} | ${note} |`);
  };
  try {
    if (resume) rows.push(`| store ${n} faces | (stored by an earlier run, kept in ${dir}) | | |`);
    else {
      await child("init", dir, n);
      const b = await child(`store:0-${n}`, dir, n);
      row(`store ${n} faces (photos written, faces put in batches of 1000)`, b);
    }
    const sizeOf = () => {
      let s = 0;
      for (const e of Deno.readDirSync(`${dir}/out`)) {
        if (e.name.startsWith("library.db")) s += Deno.statSync(`${dir}/out/${e.name}`).size;
      }
      return s;
    };
    const first = await child("run", dir, n);
    const detail = (r: Record<string, unknown>) => {
      const s = r.parts as Record<string, number>;
      return `${r.faces} faces, ${r.people} people, ${r.moved ?? 0} moved; kNN ${r.knn}; ${
        Object.entries(s).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")
      } s`;
    };
    row("first clustering and export (main job, faces already stored)", first, detail(first));
    const lib0 = sizeOf();
    const again = await child("run", dir, n);
    row("unchanged re-run", again, detail(again));
    const one = Math.round(n / 100), ten = Math.round(n / 10);
    await child(`store:${n}-${n + one}`, dir, n);
    const add1 = await child("run", dir, n + one);
    row(`+1% (${one} new faces, photo work skipped)`, add1, detail(add1));
    await child(`store:${n + one}-${n + one + ten}`, dir, n);
    const add10 = await child("run", dir, n + one + ten);
    row(`+10% (${ten} new faces, photo work skipped)`, add10, detail(add10));
    const total = n + one + ten;
    const lib = sizeOf();
    console.log(`# Library scale bench ${new Date().toISOString()}: ${n} faces\n`);
    console.log("| stage | seconds | peak MiB | detail |");
    console.log("|---|---|---|---|");
    for (const r of rows) console.log(r);
    console.log(
      `\nlibrary.db: ${(lib0 / 2 ** 20).toFixed(0)} MiB at ${n} faces (${
        (lib0 / n / 1024).toFixed(2)
      } KiB a face), ${(lib / 2 ** 20).toFixed(0)} MiB at ${total} (${
        (lib / total / 1024).toFixed(2)
      } KiB a face); output folder ${
        (du(`${dir}/out`) / 2 ** 30).toFixed(2)
      } GiB in all (library, photo copies, face crops, report)`,
    );
    // the review page in Chromium, on this library
    const rv = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./review.ts", import.meta.url).pathname, `${dir}/out`],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    console.log(`\nReview page (bench/review.ts on this library):\n`);
    console.log(new TextDecoder().decode(rv.stdout).trim());
  } finally {
    if (!keep) await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      faces: { type: "string", default: "100000" },
      resume: { type: "boolean", default: false },
      stage: { type: "string" },
      dir: { type: "string" },
      keep: { type: "string" },
    },
  });
  const n = Number(values.faces);
  if (values.stage) await stage(values.stage, values.dir!, n);
  else {
    try {
      await Deno.stat(LFW);
    } catch {
      console.log(`SKIP library scale bench: ${LFW} is absent`);
      Deno.exit(0);
    }
    await driver(n, values.keep, values.resume);
  }
}
