/**
 * Cutting the face chip an embedding model expects: the similarity transform that takes
 * the face's five points onto the model's template, applied with a bilinear warp.
 *
 * @module
 */

import { type Affine, invertAffine, warpAffine } from "../image/transform.ts";
import type { RgbImage } from "../image/types.ts";
import { type Point, similarityTransform } from "./similarity.ts";

/**
 * The `size`×`size` chip whose five points land on `template`.
 *
 * @param img The image.
 * @param five The face's five points in image pixels.
 * @param template Where they go in the chip.
 * @param size Chip size in pixels.
 * @returns The chip.
 *
 * @example
 * ```ts ignore
 * import { alignFace } from "./align.ts";
 * const chip = alignFace(image, fivePoints(face.landmarks), dlibTemplate(150), 150);
 * ```
 */
export function alignFace(img: RgbImage, five: Point[], template: Point[], size: number): RgbImage {
  return warpAffine(img, chipSourceMap(five, template), size, size);
}

/**
 * Where each chip pixel is sampled from: the inverse of the similarity transform that takes
 * the face's five points onto the template (chip coordinates → image coordinates).
 *
 * @param five The face's five points in image pixels.
 * @param template Where they go in the chip.
 * @returns The map from chip to image coordinates.
 *
 * @example
 * ```ts ignore
 * import { chipSourceMap } from "./align.ts";
 * const [a, b, c, d, e, f] = chipSourceMap(fivePoints(face.landmarks), dlibTemplate(150));
 * ```
 */
export function chipSourceMap(five: Point[], template: Point[]): Affine {
  return invertAffine(similarityTransform(five, template));
}
