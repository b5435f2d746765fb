/**
 * The scale bench: `cluster-features` at 100k–1M synthetic faces that imitate MobileFaceNet
 * on LFW, with the kNN recall, peak memory and the anchors run on the same data in the same
 * run (faiss IndexFlatIP / IndexIVFFlat from Debian's python3-faiss, C++ Infomap v2.15.1 on our
 * link file). Prints Markdown for BENCHMARKS.md.
 *
 *     deno run -A bench/scale.ts features [--cases 100k:128,1m:128,1m:512] [--exact 200k:128] [--no-anchors]
 *     deno run -A bench/scale.ts seeds [--seeds 100k:128] [--runs 6] [--probes 32]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { encodeNpy, readNpy } from "../lib/io/npy.ts";
import { type FaceProfile, measureProfile, profileFaces } from "./synthetic.ts";

const SHARED = new URL("../../shared/", import.meta.url).pathname;
const LFW = `${SHARED}reference/lfw1000_embeddings/`;
const INFOMAP_CPP = `${SHARED}reference/infomap-cpp/Infomap`;
const ANCHORS = new URL("./anchors.py", import.meta.url).pathname;
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const PY = "/usr/bin/python3";

/** "100k:128" → [100000, 128]. */
function parseCase(c: string): [number, number] {
  const m = /^(\d+)([km]?):(\d+)$/i.exec(c.trim());
  if (!m) throw new Error(`bad case '${c}' (expected e.g. 100k:128)`);
  const mult = m[2].toLowerCase() === "m" ? 1e6 : m[2].toLowerCase() === "k" ? 1e3 : 1;
  return [Number(m[1]) * mult, Number(m[3])];
}

const label = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);

/** Runs a command under GNU time; returns its last stdout line, seconds and peak RSS. */
async function timed(
  cmd: string[],
  env: Record<string, string> = {},
): Promise<{ out: string; seconds: number; peakMiB: number }> {
  const t = performance.now();
  const res = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "PEAK_KB %M", ...cmd],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t) / 1000;
  const err = new TextDecoder().decode(res.stderr);
  const out = new TextDecoder().decode(res.stdout).trim().split("\n").pop() ?? "";
  if (res.code !== 0) throw new Error(`${cmd.join(" ")} failed:\n${err.slice(-2000)}`);
  const kb = Number(/PEAK_KB (\d+)/.exec(err)?.[1] ?? NaN);
  return { out, seconds, peakMiB: kb / 1024 };
}

/** Makes (or reuses) the synthetic set; returns the paths. */
async function dataset(
  dir: string,
  n: number,
  d: number,
  profile: FaceProfile,
): Promise<{ feats: string; labels: string; lowQuality: number }> {
  const feats = `${dir}/faces_${n}_${d}.npy`, labels = `${dir}/labels_${n}_${d}.txt`;
  const { features, labels: l, lowQuality } = profileFaces(n, d, profile, { seed: 11 });
  await Deno.writeFile(feats, encodeNpy(features));
  await Deno.writeTextFile(labels, Array.from(l).join("\n") + "\n");
  let lq = 0;
  for (const x of lowQuality) lq += x;
  return { feats, labels, lowQuality: lq };
}

/** Our cluster-features as a user runs it. */
async function ours(
  feats: string,
  labels: string,
  method: string,
  linksFile?: string,
): Promise<Record<string, unknown> & { wall: number; peakMiB: number }> {
  const r = await timed([
    Deno.execPath(),
    "run",
    "-A",
    CLI,
    "cluster-features",
    feats,
    "--labels",
    labels,
    "--device",
    "cpu",
    "--knn",
    method,
    "--json",
    ...(linksFile ? ["--save-links", linksFile] : []),
  ]);
  return { ...JSON.parse(r.out), wall: r.seconds, peakMiB: r.peakMiB };
}

/** C++ Infomap on a link file, as the reference README runs it. */
async function infomapCpp(
  links: string,
  dir: string,
): Promise<{ seconds: number; peakMiB: number; codelength: number }> {
  const out = `${dir}/cpp_out`;
  await Deno.mkdir(out, { recursive: true });
  const r = await timed([
    INFOMAP_CPP,
    links,
    out,
    "--two-level",
    "--directed",
    "--clu",
    "-s",
    "123",
    "-N",
    "1",
    "--silent",
  ]);
  // the .clu header holds "# codelength X bits"
  let codelength = NaN;
  for await (const e of Deno.readDir(out)) {
    if (!e.name.endsWith(".clu")) continue;
    const text = await Deno.readTextFile(`${out}/${e.name}`);
    const m = /codelength (\S+) bits/.exec(text);
    if (m) codelength = Number(m[1]);
  }
  await Deno.remove(out, { recursive: true });
  return { seconds: r.seconds, peakMiB: r.peakMiB, codelength };
}

/** faiss at its best: without the OPENBLAS pins this machine sets. */
async function faiss(args: string[]): Promise<Record<string, number>> {
  const r = await timed([
    "env",
    "-u",
    "OPENBLAS_CORETYPE",
    "-u",
    "OPENBLAS_L2_SIZE",
    PY,
    ANCHORS,
    ...args,
  ]);
  return JSON.parse(r.out);
}

async function features(
  cases: [number, number][],
  exact: [number, number][],
  anchors = true,
): Promise<void> {
  const f = (x: unknown, p = 1) => (typeof x === "number" ? x.toFixed(p) : "–");
  const lfw = await readNpy(`${LFW}mobilefacenet.npy`);
  const names = (await Deno.readTextFile(`${LFW}labels.txt`)).trim().split("\n");
  const profile = measureProfile(lfw, names, "lfw1000 MobileFaceNet (1,000 LFW faces, 100 people)");
  const synth = profileFaces(20000, 128, profile, { seed: 3, lowQuality: 0 });
  const check = measureProfile(
    { rows: 3000, cols: 128, data: synth.features.data.subarray(0, 3000 * 128) },
    synth.labels.subarray(0, 3000),
    "synthetic",
  );
  console.log(
    `# Scale bench ${new Date().toISOString()}, ${navigator.hardwareConcurrency} cores\n`,
  );
  console.log(
    `Profile measured on ${profile.source}: same person cos ${f(profile.sameMean, 3)} ± ${
      f(profile.sameStd, 3)
    }, different people ± ${f(profile.otherStd, 3)}; synthetic clean faces: ${
      f(check.sameMean, 3)
    } ± ${f(check.sameStd, 3)}, ± ${f(check.otherStd, 3)}; plus 7% low-quality faces.\n`,
  );
  const dir = await Deno.makeTempDir({ prefix: "fc_scale_" });
  try {
    console.log("## cluster-features (k 80, min_sim 0.5, CPU)\n");
    console.log(
      "| N × d | method | kNN s | links s | Infomap s | recall s | total s | peak MiB | links | recall | BCubed F | NMI | C++ Infomap s (codelength ours / C++) |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    const all = [...exact.map((c) => [...c, 1] as const), ...cases.map((c) => [...c, 0] as const)];
    for (const [n, d, isExact] of all) {
      const set = await dataset(dir, n, d, profile);
      const methods = isExact ? ["exact", "ivf"] : ["auto"];
      for (const method of methods) {
        const links = method === "exact" ? undefined : `${dir}/links.txt`;
        const r = await ours(set.feats, set.labels, method, links);
        const s = r.seconds as Record<string, number>;
        const m = r.metrics as { bcubed: { f: number }; nmi: number };
        const rec = r.knn_recall as { recall: number } | undefined;
        let cpp = "–";
        if (links && d === 128) {
          const c = await infomapCpp(links, dir);
          cpp = `${f(c.seconds)} (${f(r.codelength, 4)} / ${f(c.codelength, 4)}), ${
            f(c.peakMiB, 0)
          } MiB`;
        }
        if (links) await Deno.remove(links).catch(() => {});
        console.log(
          `| ${label(n)} × ${d} | ${r.knn_backend} | ${f(s.knn)} | ${f(s.links)} | ${
            f(s.infomap)
          } | ${f(s.recall)} | ${f(s.total)} | ${f(r.peakMiB, 0)} | ${r.edges} | ${
            rec ? f(rec.recall, 4) : "1 (exact)"
          } | ${f(m.bcubed.f, 4)} | ${f(m.nmi, 4)} | ${cpp} |`,
        );
      }
      // anchors on the same file
      // faiss's k-means alone takes minutes at 1M × 512: its anchors are at d 128
      const nprobes = d === 128 && anchors ? [16, 32] : [];
      for (const nprobe of nprobes) {
        const fa = await faiss(["faiss-ivf", set.feats, "80", "0.5", String(nprobe)]);
        console.log(
          `| ${
            label(n)
          } × ${d} | faiss IndexIVFFlat ${fa.nlist} lists, nprobe ${nprobe} (${fa.threads} threads) | ${
            f(fa.seconds)
          } | | | | | ${f(fa.peak_mib, 0)} | | ${f(fa.recall, 4)} | | | |`,
        );
      }
      if (isExact && anchors) {
        const fl = await faiss(["faiss", set.feats, "80"]);
        console.log(
          `| ${label(n)} × ${d} | faiss IndexFlatIP (${fl.threads} threads) | ${
            f(fl.seconds)
          } | | | | | ${f(fl.peak_mib, 0)} | | 1 (exact) | | | |`,
        );
      }
      await Deno.remove(set.feats);
      await Deno.remove(set.labels);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Exact and IVF kNN on the same data, each clustered with several Infomap seeds: one trial of
 * Infomap moves BCubed F by about ±0.01 between seeds on these sets, more than the missing
 * links do, so the comparison is of the means.
 */
async function seeds(n: number, d: number, runs: number, probes?: number): Promise<void> {
  const { CpuKnn } = await import("../lib/knn/cpu.ts");
  const { linksFromKnn } = await import("../lib/knn/links.ts");
  const { l2Normalize } = await import("../lib/knn/normalize.ts");
  const { infomap } = await import("../lib/infomap/infomap.ts");
  const { evaluate } = await import("../lib/metrics/metrics.ts");
  const lfw = await readNpy(`${LFW}mobilefacenet.npy`);
  const names = (await Deno.readTextFile(`${LFW}labels.txt`)).trim().split("\n");
  const profile = measureProfile(lfw, names, "lfw1000");
  const { features, labels } = profileFaces(n, d, profile, { seed: 11 });
  const v = l2Normalize(features, "synthetic");
  console.log(
    `\n## Exact and IVF kNN, Infomap seeds 1–${runs} (${label(n)} × ${d}, k 80, min_sim 0.5)\n`,
  );
  console.log("| kNN | links | BCubed F per seed | mean BCubed F | mean NMI |");
  console.log("|---|---|---|---|---|");
  for (const method of ["exact", "ivf"] as const) {
    const g = await new CpuKnn({ method, ivf: { probes } }).search(v, 80, { minSim: 0.5 });
    const links = linksFromKnn(g, 0.5);
    const fs: number[] = [], nmis: number[] = [];
    for (let seed = 1; seed <= runs; seed++) {
      const r = infomap(links, { directed: true, seed });
      const lab = new Int32Array(n).fill(-1);
      for (let i = 0; i < r.nodeIds.length; i++) lab[r.nodeIds[i]] = r.modules[i];
      let next = n;
      for (let i = 0; i < n; i++) if (lab[i] < 0) lab[i] = next++;
      const m = evaluate(labels, lab);
      fs.push(m.bcubed.f);
      nmis.push(m.nmi);
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    console.log(
      `| ${method}${
        method === "ivf" ? ` (${probes ?? 64} probes)` : ""
      } | ${links.source.length} | ${fs.map((x) => x.toFixed(4)).join(", ")} | ${
        mean(fs).toFixed(4)
      } | ${mean(nmis).toFixed(4)} |`,
    );
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      cases: { type: "string", default: "100k:128,1m:128,1m:512" },
      exact: { type: "string", default: "200k:128" },
      seeds: { type: "string", default: "100k:128" },
      "no-anchors": { type: "boolean", default: false },
      runs: { type: "string", default: "6" },
      probes: { type: "string" },
    },
  });
  try {
    await Deno.stat(`${LFW}mobilefacenet.npy`);
  } catch {
    console.log(`SKIP scale bench: ${LFW} is absent (the profile is measured there)`);
    Deno.exit(0);
  }
  const what = positionals[0] ?? "features";
  if (what === "features") {
    await features(
      values.cases.split(",").filter(Boolean).map(parseCase),
      values.exact.split(",").filter(Boolean).map(parseCase),
      !values["no-anchors"],
    );
  } else if (what === "seeds") {
    const [n, d] = parseCase(values.seeds);
    await seeds(n, d, Number(values.runs), values.probes ? Number(values.probes) : undefined);
  } else {
    console.error(`unknown part '${what}' (expected features or seeds)`);
    Deno.exit(2);
  }
}
