/**
 * The facecluster command line: `deno run -A cli.ts cluster-features FEATS.npy ...`.
 *
 * @module
 */

import { createRequire } from "node:module";
// deno-lint-ignore no-import-prefix -- a full specifier, as in lib/: the demo's photos ship in it
import "npm:@vladmandic/face-api@1.7.15/package.json" with { type: "json" };
import { parseArgs } from "node:util";
import { dirname, resolve } from "node:path";
import { clusterFeatures } from "./lib/cluster/cluster_features.ts";
import { InputError, LibraryBusyError } from "./lib/errors.ts";
import { writeFileAtomic } from "./lib/io/atomic.ts";
import { readLabels } from "./lib/io/labels.ts";
import { readNpy } from "./lib/io/npy.ts";
import { writeLinks } from "./lib/io/links_file.ts";
import { createKnnBackend, type KnnDevice, LazyKnn } from "./lib/knn/select.ts";
import { evaluate } from "./lib/metrics/metrics.ts";
import { checkOutputFolder, defaultOutput, type LinkMode } from "./lib/archive/archive.ts";
import { Library, type UpdateOptions, type UpdateSummary } from "./lib/library/library.ts";
import { cleanOutputs, exportLibrary, type ExportSummary } from "./lib/library/export.ts";
import { startReview } from "./lib/review/server.ts";
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
                               into people and write one folder per person, with the library
                               (OUT/library.db) that remembers photos, faces, people and your
                               decisions: a re-run works only on new and changed photos,
                               re-clusters all faces and keeps person ids, names and decisions
  cluster-features FEATS.npy   cluster an N×D NumPy .npy of face features (float32/float64)

Options of PHOTOS_DIR:
  --out DIR          output folder (default: PHOTOS_DIR_people beside the input; never inside it)
  --library FILE     the library file (default OUT/library.db)
  --force            write into a non-empty output folder that holds no library
  --fresh            start a new library: the old one is kept as library.db.<time>.bak and
                     the files it wrote (unless you changed them) are removed
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
  --quiet            no progress lines

People (LIBRARY: the output folder; PERSON: an id or a name; FACE: face ids, see faces):
  deno run -A cli.ts people LIBRARY              the people, largest first
  deno run -A cli.ts faces LIBRARY [PERSON]      a person's faces, least typical first (no
                                                 PERSON: the faces alone)
  deno run -A cli.ts name LIBRARY PERSON NAME    name or rename (its faces stay together)
  deno run -A cli.ts merge LIBRARY PERSON OTHER...   one person (the first keeps its id)
  deno run -A cli.ts move LIBRARY FACE... --to PERSON|new [--name NAME]
  deno run -A cli.ts split LIBRARY PERSON FACE...    those faces become a new person
  deno run -A cli.ts not-face LIBRARY FACE...    never clustered again
  deno run -A cli.ts not-person LIBRARY FACE...  they leave their person, never to rejoin it
  deno run -A cli.ts undo LIBRARY                undo the last decision
  deno run -A cli.ts history LIBRARY             the decisions, oldest first
  (--json on each prints JSON; each decision holds in every later run's clustering; a
  decision waits --wait S seconds, default 2, for a run that is writing the library)
  deno run -A cli.ts review LIBRARY [--port N]   the review page in the browser: people, faces,
                     names, merges, moves, undo and re-cluster, on 127.0.0.1 with a per-start
                     token in the printed address (--host H --allow-remote for another address)

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

One writer at a time: a main job, a re-cluster from the review page or a decision is refused
while another process is writing the library (a decision waits --wait seconds first); reading
(people, faces, history, the review page) goes on during a run.

Exit codes: 0 done; 1 bad input (the message names the file or option); 2 bad usage;
3 another process is writing the library (the message names it; nothing was changed);
130 stopped by Ctrl-C (what was stored stays; run again to go on).
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

/** The main job's options, parsed and checked. */
interface PhotoOptions {
  input: string;
  out: string;
  library?: string;
  force: boolean;
  fresh: boolean;
  link: LinkMode;
  evaluate: boolean;
  json: boolean;
  quiet: boolean;
  device: KnnDevice;
  cacheDir: string;
  model?: EmbeddingModel;
  detector?: DetectorKind;
  update: UpdateOptions;
}

/** The main job's options from its arguments. */
async function photoOptions(args: string[]): Promise<PhotoOptions | null> {
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
      library: { type: "string" },
      fresh: { type: "boolean", default: false },
      detector: { type: "string" },
      landmarks: { type: "string", default: "68" },
      crops: { type: "boolean", default: false },
      "min-quality": { type: "string" },
    },
  });
  if (positionals.length !== 1) return null;
  const input = positionals[0].replace(/\/+$/, "") || "/";
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
  try {
    if (!(await Deno.stat(input)).isDirectory) throw new InputError(input, "not a folder");
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(input, `cannot read: ${(e as Error).message}`);
  }
  const cacheDir = values.cache ?? modelCacheDir();
  return {
    input,
    out: values.out ?? defaultOutput(input),
    library: values.library,
    force: values.force,
    fresh: values.fresh,
    link: choiceOption<LinkMode>(values.link, "link", ["copy", "hard", "symbolic"]),
    evaluate: values.evaluate,
    json: values.json,
    quiet: values.quiet,
    device: choiceOption<KnnDevice>(values.device, "device", DEVICES),
    cacheDir,
    model: values.model === undefined ? undefined : await modelOption(values.model),
    detector: values.detector === undefined
      ? undefined
      : choiceOption<DetectorKind>(values.detector, "detector", ["yunet", "ssd"]),
    update: {
      cacheDir,
      k: kOption(values.k),
      minSim: minSimOption(values["min-sim"]),
      maxPixels: intOption(values["max-pixels"], "max-pixels", 100_000_000),
      minConfidence,
      minFaceSize: intOption(values["min-face-size"], "min-face-size", 20),
      refine: choiceOption(values.landmarks, "landmarks", ["68", "5"]) === "68",
      crop: values.crops,
      flip: values.flip,
      minQuality,
    },
  };
}

/**
 * The library file of an output folder: checked against the input; a non-empty folder with
 * no library is refused without `--force`; `--fresh` sets an old library aside.
 */
async function outputLibrary(o: PhotoOptions, say: (s: string) => void): Promise<[string, string]> {
  const { real, entries } = await checkOutputFolder(o.input, o.out);
  const dbPath = o.library ?? `${real}/${LIBRARY_FILE}`;
  if (o.library !== undefined) {
    // the library is written: never into the input
    const inReal = await Deno.realPath(o.input);
    const dir = resolve(dirname(o.library));
    const dirReal = await Deno.realPath(dir).catch(() => dir);
    if (dirReal === inReal || dirReal.startsWith(inReal + "/")) {
      throw new InputError(
        o.library,
        `the library may not be inside the input folder (${o.input})`,
      );
    }
  }
  const isLibrary = entries.includes(LIBRARY_FILE) || o.library !== undefined;
  if (entries.length > 0 && !isLibrary && !o.force) {
    throw new InputError(
      o.out,
      "the output folder is not empty and holds no library (use --force to write into it)",
    );
  }
  await Deno.mkdir(real, { recursive: true });
  if (o.fresh) await setAside(dbPath, real, say);
  return [real, dbPath];
}

/** The main job: the library brought up to date with the photos, then the output folder. */
async function photosCommand(args: string[]): Promise<number> {
  const o = await photoOptions(args);
  if (o === null) return fail("give one PHOTOS_DIR");
  const say = (line: string) => {
    if (!o.quiet) console.error(line);
  };
  const [out, dbPath] = await outputLibrary(o, say);
  const progress = o.quiet ? null : new Progress();
  const t0 = performance.now();
  const lib = await Library.open(dbPath);
  // Ctrl-C: stop after the photos in hand (all stored so far stays); a second one kills
  const stop = new AbortController();
  const onInterrupt = () => {
    stop.abort();
    Deno.removeSignalListener("SIGINT", onInterrupt);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    // one writer for the whole run: the library's lock is held until the folders are written
    return await lib.exclusive(() =>
      runMainJob({ lib, o, out, dbPath, t0, say, progress, signal: stop.signal })
    );
  } catch (e) {
    if (!stop.signal.aborted) throw e;
    progress?.end();
    const stored = (await lib.photos()).length;
    console.error(`stopped: ${stored} photos are in the library; run again to go on from there`);
    return 130;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    await lib.close();
  }
}

/** The main job under the library's lock: update, evaluation, output folder, summary. */
async function runMainJob(run: {
  lib: Library;
  o: PhotoOptions;
  out: string;
  dbPath: string;
  t0: number;
  say: (s: string) => void;
  progress: Progress | null;
  signal: AbortSignal;
}): Promise<number> {
  const { lib, o, out, dbPath, t0, say, progress } = run;
  const onProgress = (stage: string, done: number, total: number, detail?: string) =>
    progress?.update(stage, done, total, detail);
  // the GPU is probed only if a full kNN search is needed (not in an incremental run);
  // --device gpu says at once when there is none
  const knn = o.device === "gpu"
    ? await createKnnBackend(o.device, { onNotice: say })
    : new LazyKnn(o.device, { onNotice: say });
  const { device: inference, adapter } = await chooseInferenceDevice(o.device);
  const model = o.model ?? (await lib.model()) ?? await defaultModel(o.cacheDir, say);
  const detector = o.detector ??
    ((await lib.store.setting("detector")) as DetectorKind | null) ??
    await defaultDetector(o.cacheDir, say);
  const result = await lib.update(o.input, {
    ...o.update,
    model,
    inference,
    knn,
    detector,
    exclude: [out],
    onProgress,
    signal: run.signal,
  });
  if (result.faces.added > 0) say(`face models: ${inferenceName(inference, adapter)}`);
  const t1 = performance.now();
  const evaluation = o.evaluate ? await lib.evaluation() : null;
  const changes = changesOf(result);
  await lib.store.setSetting("link", o.link);
  const written = await exportLibrary(lib, o.input, out, {
    link: o.link,
    extra: {
      seconds: result.seconds,
      changes,
      ...(evaluation ? { metrics: evaluation.metrics } : {}),
    },
    onProgress,
  });
  progress?.end();
  const seconds = {
    ...result.seconds,
    write: (performance.now() - t1) / 1000,
    total: (performance.now() - t0) / 1000,
  };
  const json = runSummary(
    o,
    { out, dbPath, inference, seconds, changes },
    result,
    written,
    evaluation,
  );
  if (o.json) console.log(JSON.stringify(json));
  else printSummary(json, written);
  return 0;
}

/** What a run changed, as `clusters.json` and the JSON summary say it. */
function changesOf(result: UpdateSummary) {
  return {
    new_photos: result.faces.added,
    changed_photos: result.faces.changed,
    moved_photos: result.faces.touched,
    duplicate_photos: result.faces.duplicates,
    removed_photos: result.faces.removed,
    new_people: result.people.newPersons,
    faces_added: result.people.added,
    faces_left: result.people.left,
    faces_moved: result.people.moved,
    splits: result.people.splits,
  };
}

/** The main job's JSON summary. */
function runSummary(
  o: PhotoOptions,
  run: {
    out: string;
    dbPath: string;
    inference: string;
    seconds: Record<string, number>;
    changes: ReturnType<typeof changesOf>;
  },
  result: UpdateSummary,
  written: ExportSummary,
  evaluation: Awaited<ReturnType<Library["evaluation"]>>,
) {
  const { withFaces, withoutFaces, failed } = written.accounting;
  const whole = written.faces.whole;
  return {
    input: o.input,
    out: run.out,
    library: run.dbPath,
    report: written.report,
    photos: result.photos,
    photos_with_faces: withFaces,
    photos_without_faces: withoutFaces,
    photos_failed: failed,
    faces: written.faces.all,
    people: written.people,
    unclustered: written.unclustered,
    not_faces: written.notFaces,
    detector: result.settings.detector,
    crop_mode: o.update.crop ? { detected: withFaces - whole, whole } : null,
    failed: written.failed,
    skipped: result.skipped.length,
    skipped_entries: result.skipped.map((k) => ({ path: k.path, problem: k.problem })),
    model: result.settings.model,
    k: result.settings.k,
    min_sim: result.settings.minSim,
    knn_backend: result.people.neighbours.backend,
    inference: run.inference,
    changes: run.changes,
    folders: {
      written: written.written,
      moved: written.moved,
      removed: written.removed,
      user_files_kept: written.userFiles.length,
    },
    seconds: run.seconds,
    ...(o.evaluate
      ? {
        evaluated_faces: evaluation?.faces ?? 0,
        labeled_photos: evaluation?.photos ?? 0,
        coverage: evaluation?.coverage ?? 0,
        ...(evaluation ? { metrics: evaluation.metrics } : {}),
        labels: evaluation !== null,
      }
      : {}),
  };
}

/** The main job's summary for people. */
function printSummary(j: ReturnType<typeof runSummary>, written: ExportSummary): void {
  console.log(
    `${j.input}: ${j.photos} photos (${j.changes.new_photos} new, ${j.changes.removed_photos} gone): ${j.photos_with_faces} with a face, ${j.photos_without_faces} without, ${j.photos_failed} failed; ${j.faces} faces`,
  );
  if (j.crop_mode) {
    console.log(
      `crop mode: ${j.crop_mode.detected} pictures with a detected face, ${j.crop_mode.whole} taken whole as a face`,
    );
  }
  console.log(
    `people: ${j.people} (${j.changes.new_people.length} new), faces alone: ${j.unclustered}, not faces: ${j.not_faces} (detector ${j.detector}, model ${j.model}, k ${j.k}, min_sim ${j.min_sim})`,
  );
  for (const f of j.failed) console.log(`failed: ${f.file}: ${f.error}`);
  for (const k of j.skipped_entries.slice(0, 20)) console.log(`skipped: ${k.path}: ${k.problem}`);
  if (j.skipped > 20) console.log(`skipped: ${j.skipped - 20} more (see --json)`);
  if (j.labels === false) console.log("no labels: the input has no subfolders of photos");
  if (j.metrics) {
    console.log(
      `evaluated on ${j.labeled_photos} labeled photos: coverage ${
        j.coverage!.toFixed(4)
      } (${j.evaluated_faces} with a clustered face; the others count as singletons)`,
    );
    for (const line of metricLines(j.metrics)) console.log(line);
  }
  if (written.userFiles.length) {
    console.log(`left alone (yours, or changed since written): ${written.userFiles.length} files`);
  }
  console.log(
    `seconds: ${Object.entries(j.seconds).map(([s, v]) => `${s} ${v.toFixed(2)}`).join(", ")}`,
  );
  console.log(
    `wrote ${j.out} (${written.written} files written, ${written.moved} moved, ${written.removed} removed); open ${j.report} in a browser`,
  );
}

/** The exit code when another process is writing the library (nothing was changed). */
const BUSY = 3;

/** The library's file in an output folder. */
const LIBRARY_FILE = "library.db";

function inferenceName(inference: string, adapter: string | null | undefined): string {
  return inference === "webgpu"
    ? `WebGPU on ${adapter}`
    : inference === "native"
    ? "onnxruntime-node on the CPU"
    : "WASM on the CPU (face workers)";
}

/**
 * `--fresh`: the files the old library wrote (and the user did not change) are removed, and
 * the library file is renamed aside (`library.db.<time>.bak`), never deleted.
 */
async function setAside(dbPath: string, out: string, say: (s: string) => void): Promise<void> {
  try {
    await Deno.stat(dbPath);
  } catch {
    return;
  }
  const old = await Library.open(dbPath);
  try {
    await old.exclusive(() => cleanOutputs(old, out));
  } finally {
    await old.close();
  }
  const aside = `${dbPath}.${new Date().toISOString().replace(/[:.]/g, "-")}.bak`;
  for (const ext of ["-wal", "-shm"]) await Deno.remove(dbPath + ext).catch(() => {});
  await Deno.rename(dbPath, aside);
  say(`--fresh: the earlier library is kept as ${aside}`);
}

/** The library of `LIBRARY` (an output folder holding one, or the file itself). */
async function openLibrary(where: string | undefined, wait?: number): Promise<Library> {
  if (where === undefined) {
    throw new InputError("LIBRARY", "give the output folder (or its library.db)");
  }
  let path = where;
  try {
    if ((await Deno.stat(where)).isDirectory) path = `${where.replace(/\/+$/, "")}/${LIBRARY_FILE}`;
    await Deno.stat(path);
  } catch {
    throw new InputError(where, "no library there (run the main job on your photos first)");
  }
  return await Library.open(path, { wait });
}

/** Face ids from the command line. */
function faceIds(args: string[]): number[] {
  return args.flatMap((a) => a.split(",")).filter((a) => a !== "").map((a) => {
    if (!/^\d+$/.test(a)) {
      throw new InputError(`face '${a}'`, "a face id is a number (see `faces`)");
    }
    return Number(a);
  });
}

const HINT = "run the main job again to re-cluster with it and update the folders";

/**
 * The decisions: `people`, `faces`, `name`, `merge`, `move`, `split`, `not-face`,
 * `not-person`, `undo`, `history`, each on a library (its output folder).
 */
async function decisionCommand(command: string, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      to: { type: "string" },
      name: { type: "string" },
      wait: { type: "string", default: "2" },
      json: { type: "boolean", default: false },
    },
  });
  const [where, ...rest] = positionals;
  const wait = Number(values.wait);
  if (!(wait >= 0)) throw new InputError("--wait", `'${values.wait}' is not a number of seconds`);
  const lib = await openLibrary(where, wait * 1000);
  const print = (text: string, data: unknown) =>
    console.log(values.json ? JSON.stringify(data) : text);
  try {
    if (command === "people") {
      const people = await lib.people();
      print(
        people.map((p) =>
          `${String(p.id).padStart(5)}  ${
            (p.name ?? "(unnamed)").padEnd(24)
          } ${p.faces} faces, ${p.photos} photos${p.pinned ? `, ${p.pinned} confirmed` : ""}`
        ).join("\n") || "no people yet",
        people,
      );
      return 0;
    }
    if (command === "faces") {
      const person = rest.length ? await lib.person(rest[0]) : null;
      const faces = (await lib.faces()).filter((f) =>
        person ? f.personId === person.id : f.personId === null
      ).sort((a, b) => a.similarity - b.similarity);
      print(
        faces.map((f) =>
          `${String(f.id).padStart(7)}  ${f.file}  similarity ${f.similarity.toFixed(3)}${
            f.pinned ? " (confirmed)" : ""
          }${f.notFace ? " (not a face)" : ""}`
        ).join("\n") || "no faces",
        faces.map(({ id, file, similarity, pinned, quality, personId }) => ({
          id,
          file,
          similarity,
          pinned,
          quality,
          personId,
        })),
      );
      return 0;
    }
    if (command === "history") {
      const log = await lib.decisions();
      print(
        log.map((d) =>
          `${String(d.id).padStart(5)}  ${d.at}  ${d.kind}: ${d.summary}${
            d.undone ? " (undone)" : ""
          }`
        )
          .join("\n") || "no decisions yet",
        log,
      );
      return 0;
    }
    if (command === "undo") {
      const d = await lib.undo();
      print(d ? `undone: ${d.kind}: ${d.summary}; ${HINT}` : "nothing to undo", d);
      return 0;
    }
    let id: number;
    if (command === "name") {
      if (rest.length !== 2) return fail("name LIBRARY PERSON NAME");
      id = await lib.name(rest[0], rest[1]);
    } else if (command === "merge") {
      if (rest.length < 2) return fail("merge LIBRARY PERSON OTHER...");
      id = await lib.merge(rest[0], rest.slice(1));
    } else if (command === "move") {
      if (values.to === undefined) {
        return fail("move LIBRARY FACE... --to PERSON|new [--name NAME]");
      }
      id = await lib.move(
        faceIds(rest),
        values.to === "new" ? null : values.to,
        values.name ?? null,
      );
    } else if (command === "split") {
      if (rest.length < 2) return fail("split LIBRARY PERSON FACE...");
      id = await lib.split(rest[0], faceIds(rest.slice(1)));
    } else if (command === "not-face") {
      id = await lib.notAFace(faceIds(rest));
    } else {
      id = await lib.notThisPerson(faceIds(rest));
    }
    const d = (await lib.decisions()).find((x) => x.id === id)!;
    print(`decision ${d.id}: ${d.summary}; ${HINT}`, d);
    return 0;
  } finally {
    await lib.close();
  }
}

/**
 * `review LIBRARY [--port N] [--host H --allow-remote]`: the review page over a library, on
 * 127.0.0.1 with a per-start token; "re-cluster" there runs the main job's update with the
 * library's own settings.
 */
async function reviewCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      "allow-remote": { type: "boolean", default: false },
      cache: { type: "string" },
    },
  });
  if (positionals.length !== 1) return fail("review LIBRARY [--port N]");
  const lib = await openLibrary(positionals[0]);
  const input = await lib.store.setting("input");
  if (input === null) throw new InputError(positionals[0], "the library has no photos yet");
  const out = lib.store.location.replace(/\/[^/]*$/, "");
  const server = await startReview(lib, {
    hostname: values.host,
    allowRemote: values["allow-remote"],
    port: intOption(values.port, "port", 0),
    input,
    recluster: () => reclusterLibrary(lib, input, out, values.cache ?? modelCacheDir()),
  });
  console.log(`review ${input}'s people: open ${server.url}`);
  console.log("(Ctrl-C stops it; every decision is already saved in the library)");
  await new Promise<void>((resolve) => Deno.addSignalListener("SIGINT", () => resolve()));
  await server.close();
  await lib.close();
  return 0;
}

/** The main job's update and output folder, with the settings the library was made with. */
async function reclusterLibrary(
  lib: Library,
  input: string,
  out: string,
  cacheDir: string,
): Promise<string> {
  return await lib.exclusive(() => reclusterLocked(lib, input, out, cacheDir));
}

async function reclusterLocked(
  lib: Library,
  input: string,
  out: string,
  cacheDir: string,
): Promise<string> {
  const key = (await lib.store.setting("detector_key")) ?? "";
  const last = JSON.parse(await lib.store.setting("last_run") ?? "{}");
  const r = await lib.update(input, {
    model: (await lib.model()) ?? undefined,
    cacheDir,
    detector: ((await lib.store.setting("detector")) ?? undefined) as DetectorKind | undefined,
    refine: !key.includes("-p5-"),
    crop: key.endsWith("-crop"),
    flip: ((await lib.store.setting("model_key")) ?? "").endsWith("-flip"),
    k: last.settings?.k,
    minSim: last.settings?.minSim,
    minQuality: Number((await lib.store.setting("min_quality")) ?? "0.5"),
    exclude: [out],
  });
  const link = ((await lib.store.setting("link")) ?? "copy") as LinkMode;
  const e = await exportLibrary(lib, input, out, { link });
  return `re-clustered: ${r.people.people} people (${r.people.newPersons.length} new), ${r.people.moved} faces changed person; ${e.written} files written, ${e.moved} moved, ${e.removed} removed`;
}

/** Commands that read or change a library's people. */
const DECISIONS = [
  "people",
  "faces",
  "name",
  "merge",
  "move",
  "split",
  "not-face",
  "not-person",
  "undo",
  "history",
];

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
 * @returns 0 on success, 1 on bad input, 2 on bad usage, 3 when another process is writing
 *   the library (nothing was changed), 130 when stopped by Ctrl-C (what was stored stays).
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
    if (DECISIONS.includes(command)) return await decisionCommand(command, rest);
    if (command === "review") return await reviewCommand(rest);
    return await photosCommand(args);
  } catch (e) {
    if (e instanceof LibraryBusyError) {
      console.error(`error: ${e.message}`);
      return BUSY;
    }
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
