/**
 * The stored form of a face's aligned chip: JPEG at quality 85 (about 2.6 KB for a 112 × 112
 * face, where PNG took 36 KB; sharp where it loads, else imagescript's encoder). Libraries
 * made before this keep PNG chips; {@link chipAsJpeg} turns one into the stored form.
 *
 * @module
 */

// deno-lint-ignore no-import-prefix -- a full specifier, so that mod.ts works when imported by URL
import { Image } from "npm:imagescript@1.3.1";
import { decodeImage, loadSharp } from "./decode.ts";
import type { RgbImage } from "./types.ts";

/** JPEG quality of stored chips: measured sharp on the review page, 2.6 KB a face. */
export const CHIP_QUALITY = 85;

/**
 * Encodes a face chip as JPEG.
 *
 * @param img The chip.
 * @returns JPEG bytes.
 *
 * @example
 * ```ts
 * import { encodeChip } from "./encode_chip.ts";
 * import { blankImage } from "./types.ts";
 * const jpeg = await encodeChip(blankImage(8, 8));
 * console.log(jpeg[0], jpeg[1]); // 255 216
 * ```
 */
export async function encodeChip(img: RgbImage): Promise<Uint8Array> {
  const sharp = await loadSharp();
  if (sharp) {
    const buf = await sharp(img.data, {
      raw: { width: img.width, height: img.height, channels: 3 },
    }).jpeg({ quality: CHIP_QUALITY }).toBuffer();
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  }
  const im = new Image(img.width, img.height);
  const px = im.bitmap;
  for (let i = 0; i < img.width * img.height; i++) {
    px[i * 4] = img.data[i * 3];
    px[i * 4 + 1] = img.data[i * 3 + 1];
    px[i * 4 + 2] = img.data[i * 3 + 2];
    px[i * 4 + 3] = 255;
  }
  return await im.encodeJPEG(CHIP_QUALITY);
}

/**
 * The MIME type of stored chip bytes (JPEG, or PNG from an older library).
 *
 * @param chip The bytes.
 * @returns `image/jpeg` or `image/png`.
 *
 * @example
 * ```ts
 * import { chipType } from "./encode_chip.ts";
 * console.log(chipType(new Uint8Array([0xff, 0xd8, 0xff]))); // "image/jpeg"
 * ```
 */
export function chipType(chip: Uint8Array): "image/jpeg" | "image/png" {
  return chip[0] === 0x89 && chip[1] === 0x50 ? "image/png" : "image/jpeg";
}

/**
 * A stored chip as JPEG: unchanged when it is one, re-encoded when an older library kept it
 * as PNG.
 *
 * @param chip The stored bytes.
 * @param name Its name in errors.
 * @returns JPEG bytes.
 *
 * @example
 * ```ts ignore
 * const jpeg = await chipAsJpeg((await store.chip(7))!, "face 7");
 * ```
 */
export async function chipAsJpeg(chip: Uint8Array, name: string): Promise<Uint8Array> {
  if (chipType(chip) === "image/jpeg") return chip;
  return await encodeChip(await decodeImage(chip, name));
}
