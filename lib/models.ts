/**
 * Loading the models shipped in `models/`, relative to this module (so that it works from a
 * checkout, from a remote URL and, with `--include models`, from a compiled binary).
 *
 * @module
 */

import { readAsset } from "./io/asset.ts";

/**
 * The bytes of a file in `models/`.
 *
 * @param file File name, e.g. "dlib_resnet.onnx".
 * @returns Its bytes.
 * @throws {Error} If it cannot be loaded.
 *
 * @example
 * ```ts ignore
 * import { loadModelFile } from "./models.ts";
 * const bytes = await loadModelFile("ssd_mobilenetv1.onnx");
 * ```
 */
export async function loadModelFile(file: string): Promise<Uint8Array> {
  return await readAsset(new URL(`../models/${file}`, import.meta.url));
}
