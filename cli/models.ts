/**
 * `models`: the known models, whether they are in the cache, fetching them (sha256 checked),
 * and checking a model file.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { YUNET } from "../lib/detect/yunet.ts";
import { fetchRemoteFile, isCached, modelCacheDir } from "../lib/embed/download.ts";
import { FaceEmbedder } from "../lib/embed/embedder.ts";
import { modelByName } from "../lib/embed/model_file.ts";
import { isModelAvailable, MODELS } from "../lib/embed/models.ts";
import { InputError } from "../lib/errors.ts";
import { fail } from "./common.ts";

/**
 * `models list | fetch NAME | check PATH.onnx [--cache DIR]`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function modelsCommand(args: string[]): Promise<number> {
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
    const m = await modelByName(name);
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
