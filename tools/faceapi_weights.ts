/**
 * The face-api model files the converters read: from the npm tarball of
 * `@vladmandic/face-api@1.7.15` (sha512-checked) or from a local `model/` folder.
 *
 * @module
 */

import { sha256Hex } from "../lib/io/hash.ts";
import { npmPackageFiles } from "./npm_tarball.ts";
import { readTfjsWeights, type TfjsWeight } from "./tfjs_weights.ts";

/** Where the weights come from. */
export const SOURCE = { name: "@vladmandic/face-api", version: "1.7.15" } as const;

/** The face-api models the project converts. */
export type FaceApiModel =
  | "face_recognition_model"
  | "face_landmark_68_model"
  | "ssd_mobilenetv1_model";

/**
 * Loads one model's tfjs weights.
 *
 * @param model The model's file stem.
 * @param from A folder with `<model>-weights_manifest.json` and `<model>.bin`, or
 *   undefined to fetch the package from the npm registry.
 * @returns The weights by name.
 *
 * @example
 * ```ts ignore
 * const weights = await loadFaceApiWeights("face_landmark_68_model");
 * ```
 */
export async function loadFaceApiWeights(
  model: FaceApiModel,
  from?: string,
): Promise<Map<string, TfjsWeight>> {
  const manifestName = `${model}-weights_manifest.json`, shardName = `${model}.bin`;
  let manifest: Uint8Array, shard: Uint8Array;
  if (from) {
    manifest = await Deno.readFile(`${from}/${manifestName}`);
    shard = await Deno.readFile(`${from}/${shardName}`);
  } else {
    const m = `package/model/${manifestName}`, s = `package/model/${shardName}`;
    const files = await npmPackageFiles(SOURCE.name, SOURCE.version, [m, s]);
    manifest = files.get(m)!;
    shard = files.get(s)!;
  }
  return readTfjsWeights(new TextDecoder().decode(manifest), [shard]);
}

/**
 * The command-line part of a converter: `[--from DIR] [--out FILE]`, builds the model from
 * the weights and writes it (default `models/<file>`), printing its size and sha256.
 *
 * @param model Which face-api model to read.
 * @param file Default output file name in `models/`.
 * @param build The converter.
 *
 * @example
 * ```ts ignore
 * if (import.meta.main) await convertMain("ssd_mobilenetv1_model", "ssd_mobilenetv1.onnx", buildSsdOnnx);
 * ```
 */
export async function convertMain(
  model: FaceApiModel,
  file: string,
  build: (weights: Map<string, TfjsWeight>) => Uint8Array<ArrayBuffer>,
): Promise<void> {
  const args = Deno.args;
  const from = args.includes("--from") ? args[args.indexOf("--from") + 1] : undefined;
  const out = args.includes("--out")
    ? args[args.indexOf("--out") + 1]
    : new URL(`../models/${file}`, import.meta.url).pathname;
  const bytes = build(await loadFaceApiWeights(model, from));
  await Deno.writeFile(out, bytes);
  console.log(`wrote ${out} (${bytes.length} bytes, sha256 ${await sha256Hex(bytes)})`);
}
