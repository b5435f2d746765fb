/**
 * The main job: `PHOTOS_DIR [options]`. Parses the options, opens the library at the output
 * folder and runs it (`lib/library`), then prints the summary; Ctrl-C stops after the photos
 * in hand.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { DetectorKind } from "../lib/detect/detector.ts";
import { modelCacheDir } from "../lib/embed/download.ts";
import { modelByName } from "../lib/embed/model_file.ts";
import { chooseInferenceDevice } from "../lib/embed/onnx_runtime.ts";
import { InputError } from "../lib/errors.ts";
import { createKnnBackend, type KnnDevice, LazyKnn } from "../lib/knn/select.ts";
import type { RunOptions, RunSummary } from "../lib/library/library.ts";
import { checkInputFolder, openAtOutput } from "../lib/library/open.ts";
import type { PlaceMode } from "../lib/library/settings.ts";
import { Progress } from "../lib/progress/progress.ts";
import {
  choiceOption,
  DEVICES,
  fail,
  intOption,
  kOption,
  metricLines,
  minSimOption,
} from "./common.ts";

/** The main job's options, parsed and checked. */
export interface PhotoOptions {
  input: string;
  out?: string;
  library?: string;
  force: boolean;
  fresh: boolean;
  json: boolean;
  quiet: boolean;
  device: KnnDevice;
  run: RunOptions;
}

/** A number option in a range, or undefined when not given. */
function numberIn(
  value: string | undefined,
  name: string,
  ok: (v: number) => boolean,
  range: string,
): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!ok(v)) throw new InputError(`--${name}`, `must lie in ${range}, got '${value}'`);
  return v;
}

/**
 * The main job's options from its arguments (what is not given: the library's, or defaults);
 * `extra`: more options a command built on it takes (their values in `extra`).
 */
export async function photoOptions(
  args: string[],
  extra: Record<string, { type: "string" | "boolean" }> = {},
): Promise<(PhotoOptions & { extra: Record<string, string | boolean | undefined> }) | null> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      ...extra,
      out: { type: "string" },
      force: { type: "boolean", default: false },
      link: { type: "string" },
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
      flip: { type: "boolean" },
      library: { type: "string" },
      fresh: { type: "boolean", default: false },
      detector: { type: "string" },
      landmarks: { type: "string" },
      crops: { type: "boolean" },
      "min-quality": { type: "string" },
    },
  });
  if (positionals.length !== 1) return null;
  const input = positionals[0].replace(/\/+$/, "") || "/";
  await checkInputFolder(input);
  const model = values.model;
  const v = values as Record<string, string | boolean | undefined>;
  return {
    extra: Object.fromEntries(Object.keys(extra).map((k) => [k, v[k]])),
    input,
    out: values.out,
    library: values.library,
    force: values.force,
    fresh: values.fresh,
    json: values.json,
    quiet: values.quiet,
    device: choiceOption<KnnDevice>(values.device, "device", DEVICES),
    run: {
      cacheDir: values.cache ?? modelCacheDir(),
      evaluate: values.evaluate,
      model: model === undefined ? undefined : await modelByName(model),
      modelFile: model !== undefined && /\.onnx$/i.test(model)
        ? await Deno.realPath(model)
        : undefined,
      detector: values.detector === undefined
        ? undefined
        : choiceOption<DetectorKind>(values.detector, "detector", ["yunet", "ssd"]),
      refine: values.landmarks === undefined
        ? undefined
        : choiceOption(values.landmarks, "landmarks", ["68", "5"]) === "68",
      crop: values.crops,
      flip: values.flip,
      k: kOption(values.k, undefined),
      minSim: minSimOption(values["min-sim"]),
      minQuality: numberIn(values["min-quality"], "min-quality", (v) => v >= 0 && v <= 1, "[0, 1]"),
      minConfidence: numberIn(
        values["min-confidence"],
        "min-confidence",
        (v) => v > 0 && v < 1,
        "(0, 1)",
      ),
      minFaceSize: intOption(values["min-face-size"], "min-face-size", undefined),
      maxPixels: intOption(values["max-pixels"], "max-pixels", undefined),
      link: values.link === undefined
        ? undefined
        : choiceOption<PlaceMode>(values.link, "link", ["copy", "hard", "symbolic"]),
    },
  };
}

/**
 * The main job: the library at the output folder brought up to date with the photos, then
 * the output folder; prints the summary.
 *
 * @param args The arguments (PHOTOS_DIR and options).
 * @returns The exit code (130 when stopped by Ctrl-C).
 */
export async function photosCommand(args: string[]): Promise<number> {
  const o = await photoOptions(args);
  if (o === null) return fail("give one PHOTOS_DIR");
  const say = (line: string) => {
    if (!o.quiet) console.error(line);
  };
  const { lib, out, path } = await openAtOutput({
    input: o.input,
    out: o.out,
    library: o.library,
    force: o.force,
    fresh: o.fresh,
    onNotice: say,
  });
  const progress = o.quiet ? null : new Progress();
  // Ctrl-C: stop after the photos in hand (all stored so far stays); a second one kills
  const stop = new AbortController();
  const onInterrupt = () => {
    stop.abort();
    Deno.removeSignalListener("SIGINT", onInterrupt);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    // the GPU is probed only if a full kNN search is needed (not in an incremental run);
    // --device gpu says at once when there is none
    const knn = o.device === "gpu"
      ? await createKnnBackend(o.device, { onNotice: say })
      : new LazyKnn(o.device, { onNotice: say });
    const { device: inference, adapter } = await chooseInferenceDevice(o.device);
    const r = await lib.run(o.input, out, {
      ...o.run,
      knn,
      inference,
      onProgress: (stage, done, total, detail) => progress?.update(stage, done, total, detail),
      onNotice: say,
      signal: stop.signal,
    });
    progress?.end();
    if (r.changes.new_photos > 0) say(`face models: ${inferenceName(inference, adapter)}`);
    const json = runJson(o, out, path, inference, r);
    if (o.json) console.log(JSON.stringify(json));
    else printRun(json);
    return 0;
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

function inferenceName(inference: string, adapter: string | null | undefined): string {
  return inference === "webgpu"
    ? `WebGPU on ${adapter}`
    : inference === "native"
    ? "onnxruntime-node on the CPU"
    : "WASM on the CPU (face workers)";
}

/** The main job's JSON summary. */
function runJson(o: PhotoOptions, out: string, path: string, inference: string, r: RunSummary) {
  const { withFaces, withoutFaces, failed } = r.folders.accounting;
  const whole = r.folders.faces.whole, s = r.update.settings, e = r.evaluation;
  return {
    input: o.input,
    out,
    library: path,
    report: r.folders.report,
    photos: r.update.photos,
    photos_with_faces: withFaces,
    photos_without_faces: withoutFaces,
    photos_failed: failed,
    faces: r.folders.faces.all,
    people: r.folders.people,
    unclustered: r.folders.unclustered,
    not_faces: r.folders.notFaces,
    hard_to_recognise: r.folders.hard,
    detector: s.detector.kind + (s.detector.refine ? "+68" : ""),
    crop_mode: s.detector.crop ? { detected: withFaces - whole, whole } : null,
    failed: r.folders.failed,
    skipped: r.update.skipped.length,
    skipped_entries: r.update.skipped.map((k) => ({ path: k.path, problem: k.problem })),
    model: s.model.name,
    k: s.k,
    min_sim: s.minSim,
    knn_backend: r.update.people.neighbours.backend,
    inference,
    changes: r.changes,
    folders: {
      written: r.folders.written,
      moved: r.folders.moved,
      removed: r.folders.removed,
      user_files_kept: r.folders.userFiles.length,
    },
    seconds: r.seconds,
    ...(o.run.evaluate
      ? {
        evaluated_faces: e?.faces ?? 0,
        labeled_photos: e?.photos ?? 0,
        coverage: e?.coverage ?? 0,
        ...(e ? { metrics: e.metrics } : {}),
        labels: e !== null,
      }
      : {}),
  };
}

/** The main job's summary for people. */
function printRun(j: ReturnType<typeof runJson>): void {
  console.log(
    `${j.input}: ${j.photos} photos (${j.changes.new_photos} new, ${j.changes.removed_photos} gone): ${j.photos_with_faces} with a face, ${j.photos_without_faces} without, ${j.photos_failed} failed; ${j.faces} faces`,
  );
  if (j.crop_mode) {
    console.log(
      `crop mode: ${j.crop_mode.detected} pictures with a detected face, ${j.crop_mode.whole} taken whole as a face`,
    );
  }
  console.log(
    `people: ${j.people} (${j.changes.new_people.length} new), faces alone: ${j.unclustered}, hard to recognise: ${j.hard_to_recognise}, not faces: ${j.not_faces} (detector ${j.detector}, model ${j.model}, k ${j.k}, min_sim ${j.min_sim})`,
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
  if (j.folders.user_files_kept) {
    console.log(`left alone (yours, or changed since written): ${j.folders.user_files_kept} files`);
  }
  console.log(
    `seconds: ${Object.entries(j.seconds).map(([s, v]) => `${s} ${v.toFixed(2)}`).join(", ")}`,
  );
  console.log(
    `wrote ${j.out} (${j.folders.written} files written, ${j.folders.moved} moved, ${j.folders.removed} removed); open ${j.report} in a browser`,
  );
}
