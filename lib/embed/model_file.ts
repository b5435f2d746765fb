/**
 * `--model PATH.onnx`: an embedding model given as a file. Its input size is read from the
 * graph; alignment, normalisation and the link threshold come from an optional JSON file
 * beside it (`PATH.json`), else InsightFace's conventions (ArcFace template, (v − 127.5) /
 * 127.5) and the seed's min_sim 0.5.
 *
 * @module
 */

import { ARCFACE_112, dlibTemplate } from "../align/templates.ts";
import { InputError } from "../errors.ts";
import { sha256Hex } from "../io/hash.ts";
import { inspectModel } from "../onnx/prepare.ts";
import { type EmbeddingModel, MODELS } from "./models.ts";
import { DEFAULT_MIN_SIM } from "../defaults.ts";

/** The optional `PATH.json` beside a model file. */
export interface ModelSidecar {
  /** Name in reports. @default the file name */
  name?: string;
  /** Where the five face points go: ArcFace's or dlib's template. @default "arcface" */
  template?: "arcface" | "dlib";
  /** Per-channel mean of (v / 255). @default [0.5, 0.5, 0.5] */
  mean?: number[];
  /** Per-channel std of (v / 255). @default [0.5, 0.5, 0.5] */
  std?: number[];
  /** Link threshold. @default 0.5 */
  minSim?: number;
}

function numbers3(v: unknown, what: string, file: string): number[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== "number" || !(x > -1e9))) {
    throw new InputError(file, `${what} must be three numbers`);
  }
  return v as number[];
}

/**
 * Describes a model file for the embedder: reads its graph (one float input `[N, 3, S, S]`,
 * one output `[N, D]`) and its sidecar.
 *
 * @param path The `.onnx` file.
 * @returns The model, with `path` and `sha256` set.
 * @throws {InputError} Naming the file, when it cannot be read, is not an ONNX model, has
 * another input or output shape, or its sidecar is malformed.
 *
 * @example
 * ```ts ignore
 * import { modelFromFile } from "./model_file.ts";
 * const model = await modelFromFile("w600k_mbf.onnx");
 * console.log(model.size, model.dims);
 * ```
 */
export async function modelFromFile(path: string): Promise<EmbeddingModel> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new InputError(path, `cannot read the model: ${(e as Error).message}`);
  }
  let info;
  try {
    info = inspectModel(bytes);
  } catch (e) {
    throw new InputError(path, `not an ONNX model (${(e as Error).message})`);
  }
  if (info.inputs.length !== 1 || info.outputs.length < 1) {
    throw new InputError(path, `expected one input and an output, found ${info.inputs.length}`);
  }
  const [input] = info.inputs, [output] = info.outputs;
  const [, c, h, w] = input.shape;
  if (input.shape.length !== 4 || c !== 3 || typeof h !== "number" || h !== w) {
    throw new InputError(
      path,
      `input ${input.name} has shape [${input.shape}], expected [N, 3, S, S] (RGB, NCHW)`,
    );
  }
  const dims = output.shape[output.shape.length - 1];
  if (typeof dims !== "number" || output.shape.length !== 2) {
    throw new InputError(
      path,
      `output ${output.name} has shape [${output.shape}], expected [N, D]`,
    );
  }
  const sidecarPath = path.replace(/\.onnx$/i, "") + ".json";
  let side: ModelSidecar = {};
  try {
    side = JSON.parse(await Deno.readTextFile(sidecarPath));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new InputError(sidecarPath, `cannot read the model settings: ${(e as Error).message}`);
    }
  }
  const mean = numbers3(side.mean, "mean", sidecarPath) ?? [0.5, 0.5, 0.5];
  const std = numbers3(side.std, "std", sidecarPath) ?? [0.5, 0.5, 0.5];
  if (std.some((s) => s <= 0)) throw new InputError(sidecarPath, "std must be positive");
  const minSim = side.minSim ?? DEFAULT_MIN_SIM;
  if (typeof minSim !== "number" || !(minSim >= -1 && minSim <= 1)) {
    throw new InputError(sidecarPath, "minSim must be a number in [-1, 1]");
  }
  const template = side.template === "dlib"
    ? dlibTemplate(h, 0.25)
    : ARCFACE_112.map(([x, y]) => [x * h / 112, y * h / 112] as [number, number]);
  const sha256 = await sha256Hex(bytes);
  const file = path.split(/[\\/]/).pop()!;
  return {
    name: side.name ?? file.replace(/\.onnx$/i, ""),
    file,
    path,
    sha256,
    size: h,
    template,
    input: "image",
    output: output.name,
    dims,
    minSim,
    normalize: { mean, std },
    about: `${file} (sha256 ${sha256.slice(0, 12)}), given with --model`,
  };
}

/**
 * The model `--model` names: a known one by name, or an `.onnx` file.
 *
 * @param value A name (`mobilefacenet`, `dlib`) or a path ending in `.onnx`.
 * @returns The model.
 * @throws {InputError} For an unknown name or a file that is not a usable model.
 *
 * @example
 * ```ts ignore
 * const m = await modelByName("mobilefacenet");
 * console.log(m.dims); // 128
 * ```
 */
export async function modelByName(value: string): Promise<EmbeddingModel> {
  if (value in MODELS) return MODELS[value];
  if (/\.onnx$/i.test(value)) return await modelFromFile(value);
  throw new InputError(
    "--model",
    `unknown model '${value}' (known: ${Object.keys(MODELS).join(", ")}, or a PATH.onnx)`,
  );
}
