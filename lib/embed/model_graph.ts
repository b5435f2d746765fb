/**
 * A model's graph as a session loads it: the files of a downloaded model fetched (and
 * checked) into the cache, a shipped one read, and either rewritten by `prepareModel`. The
 * CPU and the GPU embedders both start from it.
 *
 * @module
 */

import { loadModelFile } from "../models.ts";
import { inspectModel, prepareModel } from "../onnx/prepare.ts";
import { fetchRemoteFile, modelCacheDir } from "./download.ts";
import type { EmbeddingModel } from "./models.ts";

/**
 * The files of a downloaded model, verified in (or fetched into) the cache.
 *
 * @param model The model (one without `remote` has nothing to fetch).
 * @param cacheDir The model cache. @default modelCacheDir()
 * @returns Their paths, the `.onnx` first.
 *
 * @example
 * ```ts ignore
 * const [onnx] = await fetchModelFiles(MOBILEFACENET);
 * ```
 */
export async function fetchModelFiles(
  model: EmbeddingModel,
  cacheDir: string = modelCacheDir(),
): Promise<string[]> {
  const paths: string[] = [];
  for (const f of model.remote ?? []) paths.push(await fetchRemoteFile(f, cacheDir));
  return paths;
}

/**
 * The graph facecluster runs for a model, and its input name: the shipped file as it is; a
 * downloaded or given export rewritten by `prepareModel` (external data inlined, batch
 * unpinned, normalisation folded in).
 *
 * @param model The model.
 * @param cacheDir The model cache. @default modelCacheDir()
 * @returns The `.onnx` bytes and the input name.
 *
 * @example
 * ```ts ignore
 * const { bytes, input } = await modelGraph(MOBILEFACENET);
 * ```
 */
export async function modelGraph(
  model: EmbeddingModel,
  cacheDir?: string,
): Promise<{ bytes: Uint8Array; input: string }> {
  if (!model.remote && !model.path) {
    return { bytes: await loadModelFile(model.file), input: model.input };
  }
  const externalData: Record<string, Uint8Array> = {};
  let bytes: Uint8Array;
  if (model.remote) {
    // a downloaded model: external data beside it in the cache
    const paths = await fetchModelFiles(model, cacheDir);
    bytes = await Deno.readFile(paths[0]);
    for (let i = 1; i < paths.length; i++) {
      externalData[model.remote[i].name] = await Deno.readFile(paths[i]);
    }
  } else {
    bytes = await Deno.readFile(model.path!);
    const dir = model.path!.replace(/[^\\/]*$/, "");
    for (const name of inspectModel(bytes).externalFiles) {
      externalData[name] = await Deno.readFile(dir + name);
    }
  }
  const prepared = prepareModel(bytes, { externalData, normalize: model.normalize });
  return { bytes: prepared.bytes, input: prepared.input };
}
