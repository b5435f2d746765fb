/**
 * The facecluster command line: `deno run -A cli.ts cluster-features FEATS.npy ...`.
 *
 * @module
 */

import { createRequire } from "node:module";
// deno-lint-ignore no-import-prefix -- a full specifier, as in lib/: the demo's photos ship in it
import "npm:@vladmandic/face-api@1.7.15/package.json" with { type: "json" };
import { parseArgs } from "node:util";
import { clusterFeatures } from "./lib/cluster/cluster_features.ts";
import { InputError } from "./lib/errors.ts";
import { writeFileAtomic } from "./lib/io/atomic.ts";
import { readLabels } from "./lib/io/labels.ts";
import { readNpy } from "./lib/io/npy.ts";
import { writeLinks } from "./lib/io/links_file.ts";
import { createKnnBackend, type KnnDevice } from "./lib/knn/select.ts";
import { evaluate } from "./lib/metrics/metrics.ts";
import { Archive, defaultOutput, type LinkMode } from "./lib/archive/archive.ts";
import { clusterFolder } from "./lib/pipeline/cluster_folder.ts";
import { chooseInferenceDevice } from "./lib/embed/onnx_runtime.ts";
import { defaultModel, type EmbeddingModel, isModelAvailable, MODELS } from "./lib/embed/models.ts";
import { modelFromFile } from "./lib/embed/model_file.ts";
import { Progress } from "./lib/progress/progress.ts";
import { FaceEmbedder } from "./lib/embed/embedder.ts";
import { fetchRemoteFile, isCached, modelCacheDir } from "./lib/embed/download.ts";
import { defaultDetector, type DetectorKind } from "./lib/detect/detector.ts";
import { YUNET } from "./lib/detect/yunet.ts";

/** The text `--help` prints. */
export const USAGE: string = `facecluster: cluster faces into people with Infomap

Usage:
  deno run -A cli.ts PHOTOS_DIR [options]
  deno run -A cli.ts cluster-features FEATS.npy [options]

Commands:
  PHOTOS_DIR                   find every face in the photos under PHOTOS_DIR, cluster them
                               into people and write one folder per person
  cluster-features FEATS.npy   cluster an N×D NumPy .npy of face features (float32/float64)

Options of PHOTOS_DIR:
  --out DIR          output folder (default: PHOTOS_DIR_people beside the input; never inside it)
  --force            write into a non-empty output folder
  --link MODE        photos in the person folders as copy (default), hard or symbolic links
  --evaluate         the input has one subfolder per person: print pairwise/BCubed/NMI
  --device D         where the face models and kNN run: auto (models on the CPU through
                     onnxruntime-node where it loads, else a hardware GPU; kNN on a hardware
                     GPU if there is one), gpu (both on any WebGPU adapter) or cpu (default auto)
  --k N, --min-sim S, --json   as below (min-sim defaults to the model's: dlib 0.94,
                     mobilefacenet 0.45)
  --max-pixels N     refuse images with more pixels, before decoding (default 100000000)
  --detector D       yunet (downloaded, default when in the cache) or ssd (face-api's SSD
                     MobileNet v1 + 68 landmarks, shipped: the fallback)
  --landmarks N      YuNet's faces aligned on 68 points (default: the landmark network run in
                     YuNet's box, measured better) or 5 (YuNet's own, faster)
  --crops            the photos are face crops: detect with a margin around each picture and
                     take a picture with no face found as one centred face (none dropped)
  --min-quality Q    faces below this quality (0..1) go to not_faces/, never into a person
                     (default 0.5; 0 turns the gate off)
  --min-confidence S smallest face-detector score kept (default 0.7 YuNet, 0.5 SSD)
  --min-face-size N  smallest face, shorter box side in pixels (default 20)
  --model M          dlib (shipped), mobilefacenet (downloaded) or PATH.onnx (input [N,3,S,S],
                     settings from PATH.json if there); default: mobilefacenet when it is in
                     the cache, else dlib
  --flip             also embed each face mirrored and average the two (twice the embed time)
  --cache DIR        model cache (default $FACECLUSTER_CACHE, else ~/.cache/facecluster/models)
  --face-cache DIR   keep the faces and embeddings found per photo (by its sha256; embeddings
                     by model) in DIR, so that a re-run skips detection and embedding
  --quiet            no progress lines

Demo:
  deno run -A cli.ts demo [--out DIR]   the main job on the six group photos that ship in the
                     @vladmandic/face-api npm package (MIT); writes DIR (default ./demo_people)

Models:
  deno run -A cli.ts models list [--cache DIR]         the known models and whether they are here
  deno run -A cli.ts models fetch NAME [--cache DIR]   download a model, checking its sha256
  deno run -A cli.ts models check PATH.onnx            load a model file, print its settings

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

const DEVICES: readonly KnnDevice[] = ["auto", "gpu", "cpu"];

function fail(msg: string): number {
  console.error(`error: ${msg}`);
  return 2;
}

/** `--k` (an integer ≥ 1, default 80). */
function kOption(value: string | undefined): number {
  const k = intOption(value, "k", 80);
  if (k < 1) throw new InputError("--k", `must be ≥ 1, got ${k}`);
  return k;
}

/** `--min-sim` in [-1, 1], or undefined when not given. */
function minSimOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!(v >= -1 && v <= 1)) {
    throw new InputError("--min-sim", `must lie in [-1, 1], got '${value}'`);
  }
  return v;
}

/** A value that must be one of `choices`. */
function choiceOption<T extends string>(value: string, name: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    const list = `${choices.slice(0, -1).join(", ")} or ${choices[choices.length - 1]}`;
    throw new InputError(`--${name}`, `expected ${list}, got '${value}'`);
  }
  return value as T;
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
  const k = kOption(values.k);
  const minSim = minSimOption(values["min-sim"]) ?? 0.5;
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
    for (const line of metricLines(metrics)) console.log(line);
  }
  console.log(
    `seconds: ${Object.entries(seconds).map(([s, v]) => `${s} ${v.toFixed(2)}`).join(", ")}`,
  );
  if (values.out !== undefined) console.log(`wrote ${values.out}`);
  if (values["save-links"] !== undefined) console.log(`wrote ${values["save-links"]}`);
  return 0;
}

function metricLines(m: ReturnType<typeof evaluate>): string[] {
  const f = (x: number) => x.toFixed(4);
  return [
    `pairwise P/R/F ${f(m.pairwise.precision)} ${f(m.pairwise.recall)} ${f(m.pairwise.f)}`,
    `BCubed   P/R/F ${f(m.bcubed.precision)} ${f(m.bcubed.recall)} ${f(m.bcubed.f)}`,
    `NMI ${f(m.nmi)}`,
  ];
}

async function photosCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string" },
      force: { type: "boolean", default: false },
      link: { type: "string", default: "copy" },
      evaluate: { type: "boolean", default: false },
      k: { type: "string" },
      "min-sim": { type: "string" },
      device: { type: "string", default: "auto" },
      "max-pixels": { type: "string" },
      "min-confidence": { type: "string" },
      "min-face-size": { type: "string" },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      model: { type: "string" },
      cache: { type: "string" },
      flip: { type: "boolean", default: false },
      "face-cache": { type: "string" },
      detector: { type: "string" },
      landmarks: { type: "string", default: "68" },
      crops: { type: "boolean", default: false },
      "min-quality": { type: "string" },
    },
  });
  if (positionals.length !== 1) return fail("give one PHOTOS_DIR");
  const cacheDir = values.cache ?? modelCacheDir();
  const givenModel = values.model === undefined ? undefined : await modelOption(values.model);
  const input = positionals[0].replace(/\/+$/, "") || "/";
  const k = kOption(values.k);
  const minSim = minSimOption(values["min-sim"]);
  const link = choiceOption<LinkMode>(values.link, "link", ["copy", "hard", "symbolic"]);
  const device = choiceOption<KnnDevice>(values.device, "device", DEVICES);
  const maxPixels = intOption(values["max-pixels"], "max-pixels", 100_000_000);
  const minFaceSize = intOption(values["min-face-size"], "min-face-size", 20);
  const minConfidence = values["min-confidence"] === undefined
    ? undefined
    : Number(values["min-confidence"]);
  if (minConfidence !== undefined && !(minConfidence > 0 && minConfidence < 1)) {
    throw new InputError(
      "--min-confidence",
      `must lie in (0, 1), got '${values["min-confidence"]}'`,
    );
  }
  const minQuality = values["min-quality"] === undefined ? 0.5 : Number(values["min-quality"]);
  if (!(minQuality >= 0 && minQuality <= 1)) {
    throw new InputError("--min-quality", `must lie in [0, 1], got '${values["min-quality"]}'`);
  }
  const givenDetector = values.detector === undefined
    ? undefined
    : choiceOption<DetectorKind>(values.detector, "detector", ["yunet", "ssd"]);
  try {
    if (!(await Deno.stat(input)).isDirectory) throw new InputError(input, "not a folder");
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(input, `cannot read: ${(e as Error).message}`);
  }
  const quiet = values.quiet;
  const say = (line: string) => {
    if (!quiet) console.error(line);
  };
  const out = values.out ?? defaultOutput(input);
  const archive = await Archive.open(input, out, { link, force: values.force });
  const progress = quiet ? null : new Progress();
  const onProgress = (stage: string, done: number, total: number, detail?: string) =>
    progress?.update(stage, done, total, detail);
  const t0 = performance.now();
  try {
    const knn = await createKnnBackend(device, { onNotice: say });
    const { device: inference, adapter } = await chooseInferenceDevice(device);
    say(
      `face models: ${
        inference === "webgpu"
          ? `WebGPU on ${adapter}`
          : inference === "native"
          ? "onnxruntime-node on the CPU"
          : "WASM on the CPU (face workers)"
      }`,
    );
    const model = givenModel ?? await defaultModel(cacheDir, say);
    const detector = givenDetector ?? await defaultDetector(cacheDir, say);
    const result = await clusterFolder(input, {
      model,
      cacheDir,
      inference,
      k,
      minSim,
      knn,
      maxPixels,
      minConfidence,
      minFaceSize,
      detector,
      refine: choiceOption(values.landmarks, "landmarks", ["68", "5"]) === "68",
      crop: values.crops,
      minQuality,
      flip: values.flip,
      faceCache: values["face-cache"],
      exclude: [archive.out],
      onChip: (face, chip) => archive.stageChip(face, chip),
      onProgress,
    });
    const t1 = performance.now();
    const metrics = values.evaluate && result.evaluation ? result.evaluation.metrics : undefined;
    const summary = await archive.write(result, {
      seconds: { ...result.seconds },
      ...(metrics ? { metrics } : {}),
    }, onProgress);
    progress?.end();
    const seconds = { ...result.seconds, write: (performance.now() - t1) / 1000 };
    const withFaces = result.accounting.withFaces;
    seconds.total = (performance.now() - t0) / 1000;
    const json = {
      input,
      out: summary.out,
      report: summary.report,
      photos: result.photos.length,
      photos_with_faces: withFaces,
      photos_without_faces: result.withoutFaces.length,
      photos_failed: result.failed.length,
      faces: result.faces.length,
      people: summary.people,
      unclustered: summary.unclustered,
      not_faces: summary.notFaces,
      detector: result.detection.detector + (result.detection.refine ? "+68" : ""),
      crop_mode: result.detection.crop
        ? {
          detected: withFaces - result.detection.whole,
          whole: result.detection.whole,
        }
        : null,
      clusters: result.numClusters,
      failed: result.failed,
      skipped: result.skipped.length,
      model: result.model.name,
      k: result.settings.k,
      min_sim: result.settings.minSim,
      knn_backend: result.knnBackend,
      inference,
      seconds,
      ...(values.evaluate
        ? {
          evaluated_faces: result.evaluation?.faces ?? 0,
          labeled_photos: result.evaluation?.photos ?? 0,
          coverage: result.evaluation?.coverage ?? 0,
          ...(metrics ? { metrics } : {}),
        }
        : {}),
    };
    if (values.json) {
      console.log(JSON.stringify(json));
      return 0;
    }
    console.log(
      `${input}: ${result.photos.length} photos: ${withFaces} with a face, ${result.withoutFaces.length} without, ${result.failed.length} failed; ${result.faces.length} faces`,
    );
    if (json.crop_mode) {
      console.log(
        `crop mode: ${json.crop_mode.detected} pictures with a detected face, ${json.crop_mode.whole} taken whole as a face`,
      );
    }
    console.log(
      `people: ${summary.people}, faces alone: ${summary.unclustered}, not faces: ${summary.notFaces} (detector ${json.detector}, model ${result.model.name}, k ${k}, min_sim ${result.settings.minSim})`,
    );
    for (const f of result.failed) console.log(`failed: ${f.file}: ${f.error}`);
    if (values.evaluate) {
      if (metrics) {
        const ev = result.evaluation!;
        console.log(
          `evaluated on ${ev.photos} labeled photos: coverage ${
            ev.coverage.toFixed(4)
          } (${ev.faces} with a clustered face; the others count as singletons)`,
        );
        for (const line of metricLines(metrics)) console.log(line);
      } else console.log("no labels: the input has no subfolders of photos");
    }
    console.log(
      `seconds: ${Object.entries(seconds).map(([s, v]) => `${s} ${v.toFixed(2)}`).join(", ")}`,
    );
    console.log(`wrote ${summary.out}; open ${summary.report} in a browser`);
    return 0;
  } catch (e) {
    await archive.abandon();
    throw e;
  }
}

/** The demo's photos: `demo/sample1.jpg` … `sample6.jpg` of this npm package (MIT). */
const DEMO_PACKAGE = "@vladmandic/face-api";

/**
 * `demo [--out DIR] [options]`: the main job on the group photos that ship inside an npm
 * package facecluster already depends on, copied to a temporary folder (the package cache
 * is not touched), into `./demo_people` by default.
 */
async function demoCommand(args: string[]): Promise<number> {
  // the package is in Deno's npm cache (imported above); its folder there
  const pkg = createRequire(import.meta.url).resolve(`${DEMO_PACKAGE}/package.json`)
    .replace(/package\.json$/, "");
  const photos = await Deno.makeTempDir({ prefix: "facecluster-demo-" });
  try {
    for (let i = 1; i <= 6; i++) {
      await Deno.copyFile(`${pkg}demo/sample${i}.jpg`, `${photos}/sample${i}.jpg`);
    }
    const rest = [...args];
    const o = rest.indexOf("--out");
    const out = o >= 0 ? rest[o + 1] : "demo_people";
    if (o < 0) rest.push("--out", out);
    // a re-run replaces an earlier demo's output (and nothing else)
    let earlier = false;
    try {
      earlier = (await Deno.stat(`${out}/clusters.json`)).isFile;
    } catch { /* no earlier demo there */ }
    if (earlier && !rest.includes("--force")) rest.push("--force");
    console.error(`demo: 6 group photos from ${DEMO_PACKAGE}@1.7.15 (MIT), copied to ${photos}`);
    return await photosCommand([photos, ...rest]);
  } finally {
    await Deno.remove(photos, { recursive: true }).catch(() => {});
  }
}

/** `--model`: a known name or a path to an `.onnx` file. */
async function modelOption(value: string): Promise<EmbeddingModel> {
  if (value in MODELS) return MODELS[value];
  if (/\.onnx$/i.test(value)) return await modelFromFile(value);
  throw new InputError(
    "--model",
    `unknown model '${value}' (known: ${Object.keys(MODELS).join(", ")}, or a PATH.onnx)`,
  );
}

async function modelsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { cache: { type: "string" } },
  });
  const cacheDir = values.cache ?? modelCacheDir();
  const [verb, name] = positionals;
  if (verb === "list" && positionals.length === 1) {
    for (const m of Object.values(MODELS)) {
      const here = m.remote
        ? (await isModelAvailable(m, cacheDir) ? `in ${cacheDir}` : "not fetched")
        : "shipped";
      console.log(
        `${
          m.name.padEnd(14)
        } ${m.size}×${m.size}, ${m.dims}-d, min_sim ${m.minSim}, ${here}: ${m.about}`,
      );
    }
    const here = (await isCached(YUNET.remote[0], cacheDir)) ? `in ${cacheDir}` : "not fetched";
    console.log(`${YUNET.name.padEnd(14)} detector, ${here}: ${YUNET.about}`);
    console.log(
      `${"ssd".padEnd(14)} detector, shipped: face-api SSD MobileNet v1 + 68 landmarks (MIT)`,
    );
    return 0;
  }
  if (verb === "fetch" && positionals.length === 2) {
    const m = name === YUNET.name ? YUNET : MODELS[name];
    if (!m) {
      throw new InputError(
        name,
        `unknown model (known: ${[...Object.keys(MODELS), YUNET.name].join(", ")})`,
      );
    }
    for (const f of m.remote ?? []) {
      const path = await fetchRemoteFile(f, cacheDir);
      console.log(`${path}: ${f.size} bytes, sha256 ${f.sha256} verified`);
    }
    if (!m.remote) console.log(`${m.name} is shipped with facecluster: nothing to fetch`);
    return 0;
  }
  if (verb === "check" && positionals.length === 2) {
    const m = await modelOption(name);
    const emb = await FaceEmbedder.load(m, { cacheDir });
    const gray = { width: m.size, height: m.size, data: new Uint8Array(m.size * m.size * 3) };
    const v = await emb.embedChips([{ ...gray, data: gray.data.fill(128) }]);
    await emb.release();
    console.log(
      `${m.name}: ${m.size}×${m.size} → ${m.dims}-d (runs: ${
        v.every(Number.isFinite) ? "yes" : "non-finite output"
      }), output ${m.output}, template [${
        m.template.map((p) => p.map((x) => +x.toFixed(2)).join(",")).join(" ")
      }], mean [${m.normalize?.mean}], std [${m.normalize?.std}], min_sim ${m.minSim}, sha256 ${m.sha256}`,
    );
    return 0;
  }
  return fail("models list | models fetch NAME | models check PATH.onnx [--cache DIR]");
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
    if (command === "models") return await modelsCommand(rest);
    if (command === "demo") return await demoCommand(rest);
    return await photosCommand(args);
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
