/**
 * The image type every stage after decoding works on.
 *
 * @module
 */

/** An 8-bit RGB image, row-major, 3 bytes per pixel, no padding. */
export interface RgbImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width * height * 3` bytes: R, G, B of each pixel. */
  data: Uint8Array;
}

/**
 * Makes a blank (black) RGB image.
 *
 * @param width Width in pixels.
 * @param height Height in pixels.
 * @returns The image.
 *
 * @example
 * ```ts
 * import { blankImage } from "./types.ts";
 * console.log(blankImage(2, 1).data.length); // 6
 * ```
 */
export function blankImage(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3) };
}
