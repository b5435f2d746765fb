/**
 * Loading the models shipped in `models/`, relative to this module (so that it works from a
 * checkout, from a remote URL and, with `--include models`, from a compiled binary).
 *
 * @module
 */

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
  const url = new URL(`../models/${file}`, import.meta.url);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot load model ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
