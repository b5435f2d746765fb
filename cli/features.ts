/**
 * `cluster-features`: the clustering of faces given as features (an N×D NumPy `.npy`), as
 * the seed's script does it, with metrics against labels.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { clusterFeatures } from "../lib/cluster/cluster_features.ts";
import { InputError } from "../lib/errors.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { readLabels } from "../lib/io/labels.ts";
import { writeLinks } from "../lib/io/links_file.ts";
import { readNpy } from "../lib/io/npy.ts";
import { createKnnBackend, type KnnDevice } from "../lib/knn/select.ts";
import type { CpuKnnMethod } from "../lib/knn/cpu.ts";
import { type ClusteringMetrics, evaluate } from "../lib/metrics/metrics.ts";
import { DEFAULT_K, DEFAULT_MIN_SIM } from "../lib/library/settings.ts";
import {
  choiceOption,
  DEVICES,
  fail,
  intOption,
  kOption,
  metricLines,
  minSimOption,
} from "./common.ts";
import { USAGE } from "./usage.ts";

/**
 * `cluster-features FEATS.npy [options]`: kNN, links and Infomap over an N×D `.npy`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function clusterFeaturesCommand(args: string[]): Promise<number> {
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
      knn: { type: "string", default: "auto" },
      probes: { type: "string" },
      "recall-sample": { type: "string" },
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
  const k = kOption(values.k, DEFAULT_K);
  const minSim = minSimOption(values["min-sim"]) ?? DEFAULT_MIN_SIM;
  const trials = intOption(values.trials, "trials", 1);
  if (trials < 1) throw new InputError("--trials", `must be ≥ 1, got ${trials}`);
  const seed = intOption(values.seed, "seed", 123);
  const workers = values.workers === undefined
    ? undefined
    : intOption(values.workers, "workers", 0);
  if (workers !== undefined && workers < 0) {
    throw new InputError("--workers", `must be ≥ 0, got ${workers}`);
  }
  const device = choiceOption<KnnDevice>(values.device, "device", DEVICES);
  const method = choiceOption<CpuKnnMethod>(values.knn, "knn", ["auto", "exact", "ivf"]);
  const probes = intOption(values.probes, "probes", undefined);
  if (probes !== undefined && probes < 1) {
    throw new InputError("--probes", `must be ≥ 1, got ${probes}`);
  }
  const recallSample = intOption(values["recall-sample"], "recall-sample", 1000);
  if (recallSample < 0) {
    throw new InputError("--recall-sample", `must be ≥ 0, got ${recallSample}`);
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
    knn: await createKnnBackend(device, { cpu: { workers, method, ivf: { probes } } }),
    infomap: { trials, seed },
    recallSample,
  });
  const metrics = labels ? evaluate(labels, result.labels) : undefined;
  if (values["save-links"] !== undefined) await writeLinks(values["save-links"], result.links);
  if (values.out !== undefined) {
    await writeFileAtomic(values.out, Array.from(result.labels).join("\n") + "\n");
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
    ...(result.recall
      ? {
        knn_recall: {
          rows: result.recall.rows,
          exact_links: result.recall.exactLinks,
          found: result.recall.found,
          recall: result.recall.recall,
        },
      }
      : {}),
    seconds,
    ...(metrics ? { metrics } : {}),
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values["save-links"] !== undefined ? { links_file: values["save-links"] } : {}),
  };
  if (values.json) {
    console.log(JSON.stringify(summary));
    return 0;
  }
  printFeatures(summary, metrics);
  return 0;
}

/** The summary of `cluster-features` for people. */
function printFeatures(
  summary: {
    file: string;
    n: number;
    d: number;
    k: number;
    min_sim: number;
    edges: number;
    clusters: number;
    singletons: number;
    codelength: number;
    one_level_codelength: number;
    knn_backend: string;
    knn_recall?: { rows: number; exact_links: number; found: number; recall: number };
    seconds: Record<string, number>;
    out?: string;
    links_file?: string;
  },
  metrics: ClusteringMetrics | undefined,
): void {
  const f = (x: number) => x.toFixed(4);
  console.log(`${summary.file}: ${summary.n} faces × ${summary.d} dims`);
  console.log(
    `links: ${summary.edges} (k ${summary.k}, min_sim ${summary.min_sim}); kNN on ${summary.knn_backend}`,
  );
  console.log(
    `clusters: ${summary.clusters} (${summary.singletons} singletons); codelength ${
      f(summary.codelength)
    } bits (one-level ${f(summary.one_level_codelength)})`,
  );
  if (summary.knn_recall) {
    const r = summary.knn_recall;
    console.log(
      `kNN recall: ${
        f(r.recall)
      } of the links (${r.found} of ${r.exact_links} found on ${r.rows} faces checked by exact search)`,
    );
  }
  if (metrics) {
    for (const line of metricLines(metrics)) console.log(line);
  }
  console.log(
    `seconds: ${
      Object.entries(summary.seconds).map(([s, v]) => `${s} ${v.toFixed(2)}`).join(", ")
    }`,
  );
  if (summary.out !== undefined) console.log(`wrote ${summary.out}`);
  if (summary.links_file !== undefined) console.log(`wrote ${summary.links_file}`);
}
