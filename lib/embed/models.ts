/**
 * The embedding models facecluster knows: input size, the template its crops are aligned
 * to, names of its input and output, and clustering defaults measured for it.
 *
 * @module
 */

import type { Point } from "../align/similarity.ts";
import { ARCFACE_112, dlibTemplate } from "../align/templates.ts";
import { isCached, type RemoteFile } from "./download.ts";

/** An embedding model. */
export interface EmbeddingModel {
  /** Short name used on the command line and in caches. */
  name: string;
  /** File in `models/`. */
  file: string;
  /** Input crop size in pixels (square). */
  size: number;
  /** Where the five face points go in the crop. */
  template: Point[];
  /**
   * Graph input name (RGB 0..255, NCHW). For a model with `normalize`, the name of the input
   * that {@link prepareModel} gives the rewritten graph.
   */
  input: string;
  /** Graph output name. */
  output: string;
  /** Length of the embedding. */
  dims: number;
  /** The seed's link threshold that suits this model's cosine similarities. */
  minSim: number;
  /** Provenance and licence, one line. */
  about: string;
  /**
   * The input scaling the upstream export expects, x = (v / 255 − mean) / std per RGB channel;
   * folded into the graph when it is loaded (the embedder always feeds RGB 0..255).
   */
  normalize?: { mean: number[]; std: number[] };
  /**
   * For a model downloaded into the user cache instead of shipped: its files, the first being
   * the `.onnx` and the others its external data.
   */
  remote?: RemoteFile[];
  /** For a model given as a path (`--model PATH.onnx`): the `.onnx` file. */
  path?: string;
  /** Identifies the exact weights (sha256 of the `.onnx`), for keying cached embeddings. */
  sha256?: string;
  /**
   * Raw embedding lengths (before normalisation) that mark a usable face: quality 0.5 at the
   * first, 1 from the second (see `faceQuality`); absent: the model's norms are not used.
   */
  normRange?: [number, number];
  /**
   * A person whose mean direction has at least this cosine to the unrecognisable-identity
   * centre is dissolved (see `lib/library/recognisability.ts`); absent: no such check (the
   * threshold is the model's own: measured for MobileFaceNet only).
   */
  unrecognisable?: number;
  /**
   * A face whose own direction has at least this cosine to that centre joins nobody (its
   * links are dropped before Infomap; it is listed as hard to recognise); absent: no such
   * gate.
   */
  unrecognisableFace?: number;
}

/**
 * dlib's ResNet descriptor, shipped in `models/dlib_resnet.onnx`. Its vectors share a large
 * common component (different people are at cosine ≈ 0.84 on average), so the seed's 0.5
 * links everyone; 0.94 is the measured best on LFW (see `../shared/models/README.md`).
 */
export const DLIB_RESNET: EmbeddingModel = {
  name: "dlib",
  file: "dlib_resnet.onnx",
  size: 150,
  template: dlibTemplate(150, 0.25),
  input: "image",
  output: "descriptor",
  dims: 128,
  minSim: 0.94,
  sha256: "46addda878a651ce3d5a84e26888df5d13fee9e95f6203ec8f0bfd9ee7d1e8e5",
  about: "dlib ResNet face descriptor (public domain) via @vladmandic/face-api@1.7.15 (MIT)",
};

/**
 * MobileFaceNet trained with ArcFace loss by foamliu/MobileFaceNet (Apache-2.0), downloaded
 * from its public address into the user cache (`cli.ts models fetch mobilefacenet`); not
 * shipped. LFW TAR@FAR1e-3 0.980 with a careful alignment (dlib: 0.928), and its best
 * seed's-rule threshold measured at 0.40–0.45 (see `../shared/models/README.md`). With YuNet + 68
 * points 0.40 gives five_celebrity BCubed F 0.953 (0.928 at 0.45) but merges two orl_att people
 * (0.974; 1.000 from 0.43 on), so 0.45 stays. The export
 * pins the batch to 1 and expects ImageNet-normalised input; both are rewritten on load
 * (`lib/onnx/prepare.ts`).
 */
export const MOBILEFACENET: EmbeddingModel = {
  name: "mobilefacenet",
  file: "MobileFaceNet.onnx",
  size: 112,
  template: ARCFACE_112,
  input: "image",
  output: "output0",
  dims: 128,
  minSim: 0.45,
  normRange: [10, 13],
  unrecognisable: 0.4,
  unrecognisableFace: 0.35,
  sha256: "b7120c095d60094f28a4a54ba6a8bf51b297a6273fb40ef6350dfec1f63d9507",
  about: "MobileFaceNet (ArcFace loss) by foamliu/MobileFaceNet, Apache-2.0, downloaded",
  normalize: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  remote: [
    {
      name: "MobileFaceNet.onnx",
      url:
        "https://raw.githubusercontent.com/foamliu/MobileFaceNet/22d3e78287c70e23cf2f5b6a6a92594008831a7f/weights/MobileFaceNet.onnx",
      sha256: "b7120c095d60094f28a4a54ba6a8bf51b297a6273fb40ef6350dfec1f63d9507",
      size: 3998070,
    },
    // published beside the .onnx; the export measured here holds all its weights inline and
    // does not reference it, but it is fetched and checked so that a re-export that does works

    {
      name: "MobileFaceNet.onnx.data",
      url:
        "https://raw.githubusercontent.com/foamliu/MobileFaceNet/22d3e78287c70e23cf2f5b6a6a92594008831a7f/weights/MobileFaceNet.onnx.data",
      sha256: "0b6400e57e9973bed03816c500eb0c2819c623634cf5ea005e6508e95af883f6",
      size: 4071936,
    },
  ],
};

/** Every model facecluster knows, by name. */
export const MODELS: Record<string, EmbeddingModel> = {
  dlib: DLIB_RESNET,
  mobilefacenet: MOBILEFACENET,
};

/**
 * Whether every file of a downloaded model is in `cacheDir` with its size and sha256
 * (shipped models are always there).
 *
 * @param model The model.
 * @param cacheDir The cache folder.
 * @returns True when it can be used without a download.
 *
 * @example
 * ```ts ignore
 * console.log(await isModelAvailable(MOBILEFACENET, modelCacheDir()));
 * ```
 */
export async function isModelAvailable(model: EmbeddingModel, cacheDir: string): Promise<boolean> {
  for (const f of model.remote ?? []) if (!(await isCached(f, cacheDir))) return false;
  return true;
}

/**
 * The default model: MobileFaceNet when it is in the cache, else the shipped dlib model
 * (with a one-line notice telling how to fetch the better one).
 *
 * @param cacheDir The cache folder.
 * @param notice Receives the notice.
 * @returns The model.
 *
 * @example
 * ```ts ignore
 * const model = await defaultModel(modelCacheDir(), console.error);
 * ```
 */
export async function defaultModel(
  cacheDir: string,
  notice: (message: string) => void,
): Promise<EmbeddingModel> {
  if (await isModelAvailable(MOBILEFACENET, cacheDir)) return MOBILEFACENET;
  notice(
    "model: dlib (shipped); for better clusters fetch MobileFaceNet once: deno run -A cli.ts models fetch mobilefacenet",
  );
  return DLIB_RESNET;
}

/**
 * A key naming a model's exact weights (name and the start of the `.onnx` sha256), used to
 * keep cached embeddings of different models apart.
 *
 * @param model The model.
 * @returns E.g. `dlib-46addda878a6`.
 *
 * @example
 * ```ts
 * import { DLIB_RESNET, modelKey } from "./models.ts";
 * console.log(modelKey(DLIB_RESNET)); // "dlib-46addda878a6"
 * ```
 */
export function modelKey(model: EmbeddingModel): string {
  const safe = model.name.replace(/[^A-Za-z0-9_.-]/g, "_");
  return `${safe}-${(model.sha256 ?? "unhashed").slice(0, 12)}`;
}
