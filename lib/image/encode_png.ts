/**
 * PNG encoding of RGB images: sharp (libvips, off the JavaScript thread) where it loads,
 * else imagescript's encoder.
 *
 * @module
 */

// deno-lint-ignore no-import-prefix -- a full specifier, so that mod.ts works when imported by URL
import { Image } from "npm:imagescript@1.3.1";
import { loadSharp } from "./decode.ts";
import type { RgbImage } from "./types.ts";

/**
 * Encodes an RGB image as PNG.
 *
 * @param img The image.
 * @returns PNG bytes.
 *
 * @example
 * ```ts
 * import { encodePng } from "./encode_png.ts";
 * import { blankImage } from "./types.ts";
 * const png = await encodePng(blankImage(8, 8));
 * ```
 */
export async function encodePng(img: RgbImage): Promise<Uint8Array> {
  const sharp = await loadSharp();
  if (sharp) {
    const buf = await sharp(img.data, {
      raw: { width: img.width, height: img.height, channels: 3 },
    })
      .png({ compressionLevel: 1 }).toBuffer();
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
  return await im.encode(1);
}
