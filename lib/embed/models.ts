/**
 * The embedding models facecluster knows: input size, the template its crops are aligned
 * to, names of its input and output, and clustering defaults measured for it.
 *
 * @module
 */

import type { Point } from "../align/similarity.ts";
import { dlibTemplate } from "../align/templates.ts";

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
  /** Graph input name (RGB 0..255, NCHW; normalisation is inside the graph). */
  input: string;
  /** Graph output name. */
  output: string;
  /** Length of the embedding. */
  dims: number;
  /** The seed's link threshold that suits this model's cosine similarities. */
  minSim: number;
  /** Provenance and licence, one line. */
  about: string;
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
  about: "dlib ResNet face descriptor (public domain) via @vladmandic/face-api@1.7.15 (MIT)",
};
