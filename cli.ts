/**
 * The facecluster command line: `deno run -A cli.ts cluster-features FEATS.npy ...`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { clusterFeatures } from "./lib/cluster/cluster_features.ts";
import { InputError } from "./lib/errors.ts";
import { writeTextAtomic } from "./lib/io/atomic.ts";
import { readLabels } from "./lib/io/labels.ts";
import { readNpy } from "./lib/io/npy.ts";
import { writeLinks } from "./lib/io/links_file.ts";
import { createKnnBackend, type KnnDevice } from "./lib/knn/select.ts";
import { evaluate } from "./lib/metrics/metrics.ts";

/** The text `--help` prints. */
export const USAGE: string = `facecluster: cluster faces into people with Infomap

Usage:
  deno run -A cli.ts cluster-features FEATS.npy [options]

Commands:
  cluster-features FEATS.npy   cluster an N×D NumPy .npy of face features (float32/float64)

Options of cluster-features:
  --k N              neighbours per face, the face itself included (default 80)
  --min-sim S        smallest cosine similarity that links two faces, in [-1, 1] (default 0.5)
  --labels FILE      true labels, one per line: print pairwise/BCubed/NMI metrics
  --out FILE         write one cluster id per line (the seed's --save_result format)
  --trials N         Infomap trials, the best codelength is kept (default 1)
  --seed N           seed of Infomap's random order (default 123)
  --device D         where kNN runs: auto (a hardware GPU if there is one, else the CPU),
                     gpu (any WebGPU adapter, software ones too) or cpu (default auto)
  --save-links FILE  write the links, one "source target weight" line each
  --workers N        CPU kNN worker threads (default: all cores)
  --json             print one JSON object instead of a readable summary
  -h, --help         show this help
`;

function fail(msg: string): number {
  console.error(`error: ${msg}`);
  return 2;
}

function intOption(value: string | undefined, name: string, def: number): number {
  if (value === undefined) return def;
  const v = Number(value);
  if (!Number.isInteger(v)) {
    throw new InputError(`--${name}`, `expected an integer, got '${value}'`);
  }
  return v;
}

async function clusterFeaturesCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      k: { type: "string" },
      "min-sim": { type: "string" },
      labels: { type: "string" },
      out: { type: "string" },
      trials: { type: "string" },
      seed: { type: "string" },
      workers: { type: "string" },
      device: { type: "string", default: "auto" },
      "save-links": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) return fail("cluster-features takes one FEATS.npy file");
  const file = positionals[0];
  const k = intOption(values.k, "k", 80);
  if (k < 1) throw new InputError("--k", `must be ≥ 1, got ${k}`);
  const minSim = values["min-sim"] === undefined ? 0.5 : Number(values["min-sim"]);
  if (!(minSim >= -1 && minSim <= 1)) {
    throw new InputError("--min-sim", `must lie in [-1, 1], got '${values["min-sim"]}'`);
  }
  const trials = intOption(values.trials, "trials", 1);
  if (trials < 1) throw new InputError("--trials", `must be ≥ 1, got ${trials}`);
  const seed = intOption(values.seed, "seed", 123);
  const workers = values.workers === undefined
    ? undefined
    : intOption(values.workers, "workers", 0);
  if (workers !== undefined && workers < 0) {
    throw new InputError("--workers", `must be ≥ 0, got ${workers}`);
  }
  const device = values.device as KnnDevice;
  if (!["auto", "gpu", "cpu"].includes(device)) {
    throw new InputError("--device", `expected auto, gpu or cpu, got '${device}'`);
  }
  const t0 = performance.now();
  const features = await readNpy(file);
  const labels = values.labels === undefined
    ? undefined
    : await readLabels(values.labels, features.rows);
  const readSeconds = (performance.now() - t0) / 1000;
  const result = await clusterFeatures(features, {
    k,
    minSim,
    name: file,
    knn: await createKnnBackend(device, { cpu: { workers } }),
    infomap: { trials, seed },
  });
  const metrics = labels ? evaluate(labels, result.labels) : undefined;
  if (values["save-links"] !== undefined) await writeLinks(values["save-links"], result.links);
  if (values.out !== undefined) {
    await writeTextAtomic(values.out, Array.from(result.labels).join("\n") + "\n");
  }
  const seconds = {
    read: readSeconds,
    ...result.seconds,
    total: (performance.now() - t0) / 1000,
  };
  const summary = {
    file,
    n: features.rows,
    d: features.cols,
    k,
    min_sim: minSim,
    edges: result.links.source.length,
    clusters: result.numClusters,
    singletons: result.singletons,
    codelength: result.codelength,
    one_level_codelength: result.oneLevelCodelength,
    knn_backend: result.knnBackend,
    seconds,
    ...(metrics ? { metrics } : {}),
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values["save-links"] !== undefined ? { links_file: values["save-links"] } : {}),
  };
  if (values.json) {
    console.log(JSON.stringify(summary));
    return 0;
  }
  const f = (x: number) => x.toFixed(4);
  console.log(`${file}: ${features.rows} faces × ${features.cols} dims`);
  console.log(
    `links: ${summary.edges} (k ${k}, min_sim ${minSim}); kNN on ${result.knnBackend}`,
  );
  console.log(
    `clusters: ${summary.clusters} (${summary.singletons} singletons); codelength ${
      f(result.codelength)
    } bits (one-level ${f(result.oneLevelCodelength)})`,
  );
  if (metrics) {
    console.log(
      `pairwise P/R/F ${f(metrics.pairwise.precision)} ${f(metrics.pairwise.recall)} ${
        f(metrics.pairwise.f)
      }`,
    );
    console.log(
      `BCubed   P/R/F ${f(metrics.bcubed.precision)} ${f(metrics.bcubed.recall)} ${
        f(metrics.bcubed.f)
      }`,
    );
    console.log(`NMI ${f(metrics.nmi)}`);
  }
  console.log(
    `seconds: ${Object.entries(seconds).map(([s, v]) => `${s} ${v.toFixed(2)}`).join(", ")}`,
  );
  if (values.out !== undefined) console.log(`wrote ${values.out}`);
  if (values["save-links"] !== undefined) console.log(`wrote ${values["save-links"]}`);
  return 0;
}

/**
 * Runs the command line with `args` and returns the exit code.
 *
 * @param args The arguments after the program name.
 * @returns 0 on success, 1 on bad input, 2 on bad usage.
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
    return fail(
      `unknown command '${command}' (this version clusters feature files: cluster-features FEATS.npy; see --help)`,
    );
  } catch (e) {
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
