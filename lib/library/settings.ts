/**
 * The library's settings as one typed, versioned record: the model, the detector and its
 * thresholds, the clustering's k, min_sim and quality gate, the input and output folders and
 * how photos are placed. Written by the first run; a later run, a re-cluster from the review
 * page or the CLI take what they are not told from it, so that nobody parses strings back.
 * Every default lives here, once.
 *
 * @module
 */

import type { DetectorKind } from "../detect/detector.ts";
import type { LibraryStore } from "./store.ts";

export {
  DEFAULT_K,
  DEFAULT_MAX_PIXELS,
  DEFAULT_MIN_FACE_SIZE,
  DEFAULT_MIN_QUALITY,
  DEFAULT_MIN_SIM,
} from "../defaults.ts";
import {
  DEFAULT_K,
  DEFAULT_MAX_PIXELS,
  DEFAULT_MIN_FACE_SIZE,
  DEFAULT_MIN_QUALITY,
} from "../defaults.ts";

/** How photos are put into the person folders. */
export type PlaceMode = "copy" | "hard" | "symbolic";

/** The version of {@link LibrarySettings} this code writes. */
export const SETTINGS_VERSION = 1;

/** What a library was made with, and what its next run uses unless told otherwise. */
export interface LibrarySettings {
  /** The record's version. */
  version: number;
  /** The photo folder. */
  input: string;
  /** The output folder of the last run (null: none yet). */
  out: string | null;
  /** The embedding model: a known name, or the `.onnx` file it was loaded from. */
  model: { name: string; key: string; dims: number; file: string | null };
  /** Each face also embedded mirrored. */
  flip: boolean;
  /** The detector and its thresholds (`key` names them all). */
  detector: {
    kind: DetectorKind;
    refine: boolean;
    crop: boolean;
    minConfidence: number | null;
    minFaceSize: number;
    key: string;
  };
  /** Neighbours per face. */
  k: number;
  /** Link threshold. */
  minSim: number;
  /** Quality gate. */
  minQuality: number;
  /** Images with more pixels are refused. */
  maxPixels: number;
  /** How photos are placed in the person folders. */
  link: PlaceMode;
}

const KEY = "settings";

/**
 * Reads a library's settings (a library from before the record: from its older keys, once).
 *
 * @param store The library.
 * @returns The settings, or null for a library that has had no run.
 *
 * @example
 * ```ts ignore
 * const s = await readSettings(lib.store);
 * console.log(s?.model.name, s?.k);
 * ```
 */
export async function readSettings(store: LibraryStore): Promise<LibrarySettings | null> {
  const text = await store.setting(KEY);
  if (text !== null) return JSON.parse(text) as LibrarySettings;
  return await legacySettings(store);
}

/**
 * Writes a library's settings.
 *
 * @param store The library.
 * @param s The settings.
 *
 * @example
 * ```ts ignore
 * await writeSettings(lib.store, { ...s, k: 40 });
 * ```
 */
export async function writeSettings(store: LibraryStore, s: LibrarySettings): Promise<void> {
  await store.setSetting(KEY, JSON.stringify({ ...s, version: SETTINGS_VERSION }));
}

/** The settings of a library written before the record (separate keys). */
async function legacySettings(store: LibraryStore): Promise<LibrarySettings | null> {
  const modelKey = await store.setting("model_key");
  if (modelKey === null) return null;
  const detectorKey = (await store.setting("detector_key")) ?? "";
  const last = JSON.parse((await store.setting("last_run")) ?? "{}");
  const kind = ((await store.setting("detector")) ?? "ssd") as DetectorKind;
  const confidence = /-c([\d.]+)-/.exec(detectorKey)?.[1];
  return {
    version: SETTINGS_VERSION,
    input: (await store.setting("input")) ?? "",
    out: null,
    model: {
      name: (await store.setting("model_name")) ?? "",
      key: modelKey.replace(/-flip$/, ""),
      dims: Number((await store.setting("model_dims")) ?? 0),
      file: null,
    },
    flip: modelKey.endsWith("-flip"),
    detector: {
      kind,
      refine: kind === "yunet" && !detectorKey.includes("-p5-"),
      crop: detectorKey.endsWith("-crop"),
      minConfidence: confidence === undefined ? null : Number(confidence),
      minFaceSize: Number(/-s(\d+)/.exec(detectorKey)?.[1] ?? DEFAULT_MIN_FACE_SIZE),
      key: detectorKey,
    },
    k: last.settings?.k ?? DEFAULT_K,
    minSim: last.settings?.minSim ?? NaN,
    minQuality: Number((await store.setting("min_quality")) ?? DEFAULT_MIN_QUALITY),
    maxPixels: DEFAULT_MAX_PIXELS,
    link: ((await store.setting("link")) ?? "copy") as PlaceMode,
  };
}
