/**
 * Benchmarks: kNN, links and Infomap timed separately with peak memory, beside faiss
 * IndexFlatIP and igraph's Infomap run on the same data in the same run.
 *
 * `deno task bench` runs everything (about 15 minutes on 2 cores); `deno task bench --quick`
 * leaves out the 200k set and N = 50k. `deno task bench faces` runs the face-model benches
 * (embedding beside onnxruntime-node, decoders, photos end to end, the library's re-runs; ../shared needed) and
 * `deno task bench gpu` the WebGPU ones (profile, variants; see tools/gpu_check.sh). Each case runs in its own process so that its peak
 * memory (VmHWM) is its own. Results print as Markdown rows for BENCHMARKS.md.
 *
 * @module
 */

import { encodeNpy, type Matrix, readNpy } from "../lib/io/npy.ts";
import { l2Normalize } from "../lib/knn/normalize.ts";
import { createKnnBackend, type KnnDevice } from "../lib/knn/select.ts";
import { linksFromKnn } from "../lib/knn/links.ts";
import { codelengthOf, infomap } from "../lib/infomap/infomap.ts";
import { readLinkList } from "../tests/shared.ts";
import { evaluate } from "../lib/metrics/metrics.ts";
import { readLabels } from "../lib/io/labels.ts";
import { writeLinks } from "../lib/io/links_file.ts";
import { syntheticFaces } from "./synthetic.ts";

const SHARED = new URL("../../shared/", import.meta.url).pathname;
const H10K = `${SHARED}reference/synthetic_h10k/feats.npy`;
const H10K_LABELS = `${SHARED}reference/synthetic_h10k/labels.txt`;
const PY = "/usr/bin/python3";
const ANCHORS = new URL("./anchors.py", import.meta.url).pathname;

function peakMiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

async function datasetFeatures(
  name: string,
  dir: string,
): Promise<{ features: Matrix; labels: ArrayLike<string | number> }> {
  if (name === "h10k") {
    const features = await readNpy(H10K);
    return { features, labels: await readLabels(H10K_LABELS, features.rows) };
  }
  const m = /^synth(\d+)k_d(\d+)$/.exec(name);
  if (!m) throw new Error(`unknown dataset ${name}`);
  const path = `${dir}/${name}.npy`;
  const { features, labels } = syntheticFaces(Number(m[1]) * 1000, Number(m[2]), 42);
  await Deno.writeFile(path, encodeNpy(features));
  return { features, labels };
}

/** Cluster of each row: its module, or a cluster of its own when it has no link. */
function clustersOf(n: number, nodeIds: Int32Array, modules: ArrayLike<number>): Int32Array {
  const out = new Int32Array(n).fill(-1);
  for (let i = 0; i < nodeIds.length; i++) out[nodeIds[i]] = modules[i];
  let next = 1 << 30;
  for (let i = 0; i < n; i++) if (out[i] < 0) out[i] = next++;
  return out;
}

/** One case in this process: prints a JSON line. */
async function runCase(name: string, device: KnnDevice, k: number, minSim: number, dir: string) {
  const { features: feats, labels } = await datasetFeatures(name, dir);
  const t0 = performance.now();
  const v = l2Normalize(feats, name);
  // these tables are of exact search beside faiss IndexFlatIP (bench/scale.ts measures the IVF)
  const knn = await createKnnBackend(device, { onNotice: () => {}, cpu: { method: "exact" } });
  const t1 = performance.now();
  const g = await knn.search(v, k, { minSim });
  const t2 = performance.now();
  const peakKnn = peakMiB();
  const links = linksFromKnn(g, minSim);
  const t3 = performance.now();
  const r = infomap(links, { directed: true });
  const t4 = performance.now();
  await writeLinks(`${dir}/${name}.links.txt`, links);
  await Deno.writeTextFile(`${dir}/${name}.labels.txt`, Array.from(labels).join("\n") + "\n");
  const metrics = evaluate(labels, clustersOf(feats.rows, r.nodeIds, r.modules));
  console.log(JSON.stringify({
    name,
    n: feats.rows,
    d: feats.cols,
    k,
    backend: knn.name,
    knn_s: (t2 - t1) / 1000,
    links_s: (t3 - t2) / 1000,
    infomap_s: (t4 - t3) / 1000,
    normalize_s: (t1 - t0) / 1000,
    links: links.source.length,
    modules: r.numModules,
    codelength: r.codelength,
    peak_after_knn_mib: peakKnn,
    peak_mib: peakMiB(),
    bcubed_f: metrics.bcubed.f,
    nmi: metrics.nmi,
  }));
}

async function sub(args: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(args[0], { args: args.slice(1), stderr: "inherit" }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  if (out.code !== 0) throw new Error(`${args.join(" ")} failed`);
  return JSON.parse(text);
}

function self(args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", new URL(import.meta.url).pathname, ...args];
}

async function main() {
  if (Deno.args[0] === "--case") {
    const [, name, device, k, minSim, dir] = Deno.args;
    await runCase(name, device as KnnDevice, Number(k), Number(minSim), dir);
    return;
  }
  if (Deno.args[0] === "faces" || Deno.args[0] === "gpu") {
    // the face-model suites: each bench in its own process, its Markdown/JSON lines as they come
    const suites: Record<string, string[][]> = {
      faces: [
        ["bench/embed.ts"],
        ["bench/decode.ts"],
        ["bench/detect.ts"],
        [
          "bench/photos.ts",
          "--modes",
          "native",
          "--detectors",
          "ssd,yunet,yunet5",
          "--model",
          "mobilefacenet",
          "bbt_faceapi",
          "orl_att",
          "five_celebrity",
          "lfw_min10",
        ],
        ["bench/library.ts", "lfw_min10"],
        ["bench/decisions.ts", "--steps", "5000"],
        ["bench/degraded.ts"],
      ],
      gpu: [["bench/gpu_profile.ts"], ["bench/gpu_embed.ts"]],
    };
    for (const args of suites[Deno.args[0]]) {
      console.log(`\n## deno run -A ${args.join(" ")}\n`);
      const root = new URL("../", import.meta.url);
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL(args[0], root).pathname, ...args.slice(1)],
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      if (!r.success) throw new Error(`${args.join(" ")} failed`);
    }
    return;
  }
  const quick = Deno.args.includes("--quick");
  if (quick) console.error("--quick: without the 200k set and N = 50k");
  const dir = await Deno.makeTempDir({ prefix: "facecluster-bench-" });
  const date = new Date().toISOString().slice(0, 10);
  const f = (x: unknown) => (typeof x === "number" ? x.toFixed(2) : String(x));
  console.log(`# facecluster bench ${date}, ${navigator.hardwareConcurrency} cores\n`);

  console.log("## Graph stages (k 80, min_sim 0.5)\n");
  console.log(
    "| set | N | d | kNN on | kNN s | links s | Infomap s | links | modules | codelength | BCubed F | NMI | peak MiB |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  const cases: [string, KnnDevice][] = [["h10k", "cpu"], ["h10k", "gpu"]];
  if (!quick) cases.push(["synth200k_d128", "cpu"]);
  const results: Record<string, Record<string, unknown>> = {};
  for (const [name, device] of cases) {
    try {
      const r = await sub(self(["--case", name, device, "80", "0.5", dir]));
      results[`${name}/${device}`] = r;
      console.log(
        `| ${name} | ${r.n} | ${r.d} | ${r.backend} | ${f(r.knn_s)} | ${f(r.links_s)} | ${
          f(r.infomap_s)
        } | ${r.links} | ${r.modules} | ${(r.codelength as number).toFixed(4)} | ${
          (r.bcubed_f as number).toFixed(4)
        } | ${(r.nmi as number).toFixed(4)} | ${(r.peak_mib as number).toFixed(0)} |`,
      );
    } catch (e) {
      console.log(`| ${name} | – | – | ${device} | failed: ${(e as Error).message} |`);
    }
  }

  console.log(
    "\n## Infomap beside igraph's community_infomap (same link list, directed, 1 trial)\n",
  );
  console.log(
    "| graph | links | facecluster s | codelength | BCubed F | NMI | igraph s | igraph partition's codelength | BCubed F | NMI |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const key of quick ? ["h10k/cpu"] : ["h10k/cpu", "synth200k_d128/cpu"]) {
    const r = results[key];
    if (!r) continue;
    const linksFile = `${dir}/${r.name}.links.txt`, membership = `${dir}/${r.name}.igraph.txt`;
    let igraphCells = "failed | – | – | –";
    try {
      const ig = await sub([PY, ANCHORS, "igraph", linksFile, membership]);
      // igraph reports its own codelength; the same flow model as ours makes them comparable
      const links = await readLinkList(linksFile);
      const member = (await Deno.readTextFile(membership)).trim().split("\n").map(Number);
      const labels = (await Deno.readTextFile(`${dir}/${r.name}.labels.txt`)).trim().split("\n");
      const cl = codelengthOf(links, member, { directed: true });
      const linked = new Uint8Array(member.length);
      for (const s of links.source) linked[s] = 1;
      for (const t of links.target) linked[t] = 1;
      const clusters = member.map((m, i) => (linked[i] ? m : -1 - i));
      const m = evaluate(labels, clusters);
      igraphCells = `${f(ig.seconds)} | ${cl.toFixed(4)} | ${m.bcubed.f.toFixed(4)} | ${
        m.nmi.toFixed(4)
      }`;
    } catch (e) {
      console.error(`igraph: ${(e as Error).message}`);
    }
    console.log(
      `| ${r.name} | ${r.links} | ${f(r.infomap_s)} | ${(r.codelength as number).toFixed(4)} | ${
        (r.bcubed_f as number).toFixed(4)
      } | ${(r.nmi as number).toFixed(4)} | ${igraphCells} |`,
    );
  }

  console.log("\n## Exact kNN on the CPU beside faiss IndexFlatIP (d 512, k 80, same data)\n");
  console.log("| N | facecluster s | facecluster peak MiB | faiss s | faiss peak MiB | ratio |");
  console.log("|---|---|---|---|---|---|");
  for (const n of quick ? [20] : [20, 50]) {
    const name = `synth${n}k_d512`;
    const mine = await sub(self(["--case", name, "cpu", "80", "-1", dir]));
    // faiss at its best: without the OPENBLAS_CORETYPE/L2_SIZE pins this machine sets
    const fa = await sub([
      "env",
      "-u",
      "OPENBLAS_CORETYPE",
      "-u",
      "OPENBLAS_L2_SIZE",
      PY,
      ANCHORS,
      "faiss",
      `${dir}/${name}.npy`,
      "80",
    ]);
    console.log(
      `| ${n}k | ${f(mine.knn_s)} | ${(mine.peak_after_knn_mib as number).toFixed(0)} | ${
        f(fa.seconds)
      } | ${(fa.peak_mib as number).toFixed(0)} | ${
        ((mine.knn_s as number) / (fa.seconds as number)).toFixed(2)
      } |`,
    );
  }
  await Deno.remove(dir, { recursive: true });
}

await main();
