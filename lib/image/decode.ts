/**
 * Decoding image files into upright RGB: the format is recognised by its bytes (not the
 * file name), the size is read from the header and refused above a pixel limit before any
 * decoding (a decompression bomb never gets decoded), JPEG and PNG go through sharp (libvips,
 * native; 3–13× faster than imagescript, measured in `bench/decode.ts`) or, where sharp cannot
 * load or `FACECLUSTER_DECODER=imagescript` asks for it, through imagescript; PGM/PPM through
 * our own decoder; EXIF orientation is applied by our own reader, alpha is composited over
 * white and gray is replicated to RGB.
 *
 * @module
 */

// deno-lint-ignore no-import-prefix -- a full specifier, so that mod.ts works when imported by URL
import { decode as imagescriptDecode, Image } from "npm:imagescript@1.3.1";
import { InputError } from "../errors.ts";
import { exifOrientation } from "./exif.ts";
import { decodePnm, readPnmHeader } from "./pnm.ts";
import { applyOrientation } from "./transform.ts";
import type { RgbImage } from "./types.ts";
import { DEFAULT_MAX_PIXELS } from "../defaults.ts";

/** The decoders of JPEG and PNG. */
export type Decoder = "sharp" | "imagescript";

// deno-lint-ignore no-explicit-any -- sharp's default export, loaded on first use
type Sharp = any;
let sharpModule: Promise<Sharp | null> | null = null;

/**
 * sharp, loaded once (null when it cannot load on this platform).
 *
 * @returns sharp's default export, or null.
 *
 * @example
 * ```ts ignore
 * const sharp = await loadSharp();
 * ```
 */
export function loadSharp(): Promise<Sharp | null> {
  sharpModule ??= (async () => {
    try {
      // deno-lint-ignore no-import-prefix -- a full specifier, so that mod.ts works imported by URL
      const sharp = (await import("npm:sharp@0.35.5")).default;
      sharp.cache(false); // no libvips cache: every photo is decoded once
      sharp.concurrency(1); // parallelism comes from the face workers
      return sharp;
    } catch {
      return null;
    }
  })();
  return sharpModule;
}

/**
 * The decoder {@link decodeImage} uses for JPEG and PNG here: sharp unless it cannot load or
 * `FACECLUSTER_DECODER=imagescript` is set.
 *
 * @returns The decoder's name.
 *
 * @example
 * ```ts
 * import { activeDecoder } from "./decode.ts";
 * console.log(await activeDecoder()); // "sharp"
 * ```
 */
export async function activeDecoder(): Promise<Decoder> {
  let forced: string | undefined;
  try {
    forced = Deno.env.get("FACECLUSTER_DECODER");
  } catch {
    forced = undefined; // no env permission: the default
  }
  if (forced === "imagescript") return "imagescript";
  return (await loadSharp()) ? "sharp" : "imagescript";
}

async function decodeWithSharp(
  sharp: Sharp,
  bytes: Uint8Array,
  maxPixels: number,
  orient = false,
): Promise<RgbImage> {
  let pipeline = sharp(bytes, { limitInputPixels: maxPixels, failOn: "warning" });
  // formats whose orientation our EXIF reader does not parse: sharp turns them upright
  if (orient) pipeline = pipeline.rotate();
  const { data, info } = await pipeline
    .flatten({ background: "#ffffff" }) // alpha over white
    .toColourspace("srgb") // gray, CMYK and 16-bit to 8-bit sRGB
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  if (channels === 3) {
    return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  }
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = data[i * channels + (channels < 3 ? 0 : c)];
  }
  return { width, height, data: out };
}

/** Formats recognised by their first bytes. */
export type ImageFormat =
  | "jpeg"
  | "png"
  | "pnm"
  | "gif"
  | "bmp"
  | "tiff"
  | "webp"
  | "avif"
  | "heic";

/** Formats {@link decodeImage} decodes (WEBP, TIFF, GIF and AVIF where sharp loads). */
export const DECODABLE: readonly ImageFormat[] = [
  "jpeg",
  "png",
  "pnm",
  "webp",
  "tiff",
  "gif",
  "avif",
];

/** Formats only sharp decodes (first page of a TIFF, first frame of a GIF). */
const SHARP_ONLY: readonly ImageFormat[] = ["webp", "tiff", "gif", "avif"];

/**
 * Recognises an image format from the first bytes of a file.
 *
 * @param b The file's first bytes (12 are enough).
 * @returns The format, or null for anything else.
 *
 * @example
 * ```ts
 * import { sniffFormat } from "./decode.ts";
 * console.log(sniffFormat(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]))); // "png"
 * ```
 */
export function sniffFormat(b: Uint8Array): ImageFormat | null {
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "png";
  if (
    b[0] === 0x50 && [0x32, 0x33, 0x35, 0x36].includes(b[1]) && b.length > 2 &&
    /\s/.test(String.fromCharCode(b[2]))
  ) {
    return "pnm";
  }
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return "gif";
  if (b[0] === 0x42 && b[1] === 0x4d) return "bmp";
  if (
    (b[0] === 0x49 && b[1] === 0x49 && b[2] === 42) ||
    (b[0] === 0x4d && b[1] === 0x4d && b[3] === 42)
  ) {
    return "tiff";
  }
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57) {
    return "webp";
  }
  if (b.length >= 12 && String.fromCharCode(...b.subarray(4, 8)) === "ftyp") {
    // ISO base media: the major brand tells AVIF from HEIC/HEIF
    const brand = String.fromCharCode(...b.subarray(8, 12));
    if (brand === "avif" || brand === "avis") return "avif";
    if (["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"].includes(brand)) {
      return "heic";
    }
  }
  return null;
}

/**
 * Width and height from a JPEG, PNG or PGM/PPM header, without decoding.
 *
 * @param b The file.
 * @param format Its format.
 * @param name The file name for errors.
 * @returns The size.
 * @throws {InputError} If the header is malformed.
 *
 * @example
 * ```ts ignore
 * import { imageSize } from "./decode.ts";
 * const { width, height } = imageSize(bytes, "jpeg", "photo.jpg");
 * ```
 */
export function imageSize(
  b: Uint8Array,
  format: ImageFormat,
  name: string,
): { width: number; height: number } {
  if (format === "png") {
    if (b.length < 24) throw new InputError(name, "truncated PNG header");
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return { width: v.getUint32(16), height: v.getUint32(20) };
  }
  if (format === "pnm") {
    const h = readPnmHeader(b, name);
    return { width: h.width, height: h.height };
  }
  if (format === "jpeg") {
    let p = 2;
    while (p + 4 <= b.length) {
      if (b[p] !== 0xff) break;
      const m = b[p + 1];
      if (m === 0xff) {
        p++;
        continue;
      }
      if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
        p += 2;
        continue;
      }
      const len = (b[p + 2] << 8) | b[p + 3];
      const sof = m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
      if (sof && p + 9 <= b.length) {
        return { height: (b[p + 5] << 8) | b[p + 6], width: (b[p + 7] << 8) | b[p + 8] };
      }
      if (m === 0xda || m === 0xd9) break;
      p += 2 + len;
    }
    throw new InputError(name, "JPEG without a frame header (truncated or corrupt)");
  }
  throw new InputError(name, `cannot read the size of a ${format.toUpperCase()} file`);
}

/** Options of {@link decodeImage}. */
export interface DecodeOptions {
  /** Images with more pixels are refused before decoding. @default 100_000_000 */
  maxPixels?: number;
}

function rgbaToRgb(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): RgbImage {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = rgba[i * 4 + 3];
    for (let c = 0; c < 3; c++) {
      const v = rgba[i * 4 + c];
      // composite over white
      data[i * 3 + c] = a === 255 ? v : Math.round((v * a + 255 * (255 - a)) / 255);
    }
  }
  return { width, height, data };
}

/**
 * Decodes an image file into an upright RGB image.
 *
 * @param bytes The file.
 * @param name The file name for errors.
 * @param options The pixel limit.
 * @returns The image.
 * @throws {InputError} For a file that is not a supported image, is corrupt or truncated,
 *   or has more pixels than allowed.
 *
 * @example
 * ```ts ignore
 * import { decodeImage } from "./decode.ts";
 * const img = await decodeImage(await Deno.readFile("a.jpg"), "a.jpg");
 * console.log(img.width, img.height);
 * ```
 */
export async function decodeImage(
  bytes: Uint8Array,
  name: string,
  options: DecodeOptions = {},
): Promise<RgbImage> {
  const format = sniffFormat(bytes);
  if (!format) throw new InputError(name, "not an image (unrecognised file contents)");
  if (format === "heic") {
    throw new InputError(
      name,
      "HEIC/HEIF is not supported: no HEVC decoder is available to facecluster (convert it to JPEG first, e.g. `heif-convert photo.heic photo.jpg` from libheif-examples)",
    );
  }
  if (!DECODABLE.includes(format)) {
    throw new InputError(name, `unsupported image format ${format.toUpperCase()}`);
  }
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (SHARP_ONLY.includes(format)) return await decodeSharpOnly(bytes, format, name, maxPixels);
  const { width, height } = imageSize(bytes, format, name);
  checkSize(width, height, maxPixels, name);
  if (format === "pnm") return decodePnm(bytes, name);
  if ((await activeDecoder()) === "sharp") {
    let rgb: RgbImage;
    try {
      rgb = await decodeWithSharp((await loadSharp())!, bytes, maxPixels);
    } catch (e) {
      const why = (e as Error).message.split("\n")[0];
      throw new InputError(name, `corrupt or truncated ${format.toUpperCase()} (${why})`);
    }
    return applyOrientation(rgb, exifOrientation(bytes));
  }
  let img: Image;
  try {
    const decoded = await imagescriptDecode(bytes, true);
    if (!(decoded instanceof Image)) throw new Error("not a still image");
    img = decoded;
  } catch (e) {
    throw new InputError(
      name,
      `corrupt or truncated ${format.toUpperCase()} (${(e as Error).message})`,
    );
  }
  const rgb = rgbaToRgb(img.bitmap, img.width, img.height);
  return applyOrientation(rgb, exifOrientation(bytes));
}

/** Refuses an empty image or one over the pixel limit, from its header's size. */
function checkSize(width: number, height: number, maxPixels: number, name: string): void {
  if (width < 1 || height < 1) throw new InputError(name, `image of ${width}×${height} pixels`);
  if (width * height > maxPixels) {
    throw new InputError(
      name,
      `${width}×${height} = ${
        width * height
      } pixels is over the limit of ${maxPixels} (not decoded)`,
    );
  }
}

/** WEBP, TIFF, GIF, AVIF: sharp reads the size, refuses it above the limit, decodes page 0. */
async function decodeSharpOnly(
  bytes: Uint8Array,
  format: ImageFormat,
  name: string,
  maxPixels: number,
): Promise<RgbImage> {
  const sharp = (await activeDecoder()) === "sharp" ? await loadSharp() : null;
  if (!sharp) {
    throw new InputError(
      name,
      `${format.toUpperCase()} needs sharp, which cannot load here (or FACECLUSTER_DECODER=imagescript)`,
    );
  }
  let meta: { width?: number; height?: number };
  try {
    meta = await sharp(bytes).metadata();
  } catch (e) {
    const why = (e as Error).message.split("\n")[0];
    throw new InputError(name, `corrupt or truncated ${format.toUpperCase()} (${why})`);
  }
  const width = meta.width ?? 0, height = meta.height ?? 0;
  checkSize(width, height, maxPixels, name);
  try {
    return await decodeWithSharp(sharp, bytes, maxPixels, true);
  } catch (e) {
    const why = (e as Error).message.split("\n")[0];
    throw new InputError(name, `corrupt or truncated ${format.toUpperCase()} (${why})`);
  }
}
