/**
 * A small EXIF reader: the orientation tag (0x0112) of a JPEG's APP1 segment or a PNG's
 * eXIf chunk.
 *
 * @module
 */

/** Reads the orientation of a TIFF structure at `start` (1 when absent or malformed). */
function tiffOrientation(b: Uint8Array, start: number, end: number): number {
  if (end - start < 8) return 1;
  const le = b[start] === 0x49 && b[start + 1] === 0x49;
  const be = b[start] === 0x4d && b[start + 1] === 0x4d;
  if (!le && !be) return 1;
  const u16 = (p: number) => (le ? b[p] | (b[p + 1] << 8) : (b[p] << 8) | b[p + 1]);
  const u32 = (p: number) =>
    le
      ? (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0
      : ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  if (u16(start + 2) !== 42) return 1;
  const ifd = start + u32(start + 4);
  if (ifd + 2 > end) return 1;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + 12 * i;
    if (e + 12 > end) return 1;
    if (u16(e) === 0x0112) {
      const type = u16(e + 2);
      const v = type === 3 ? u16(e + 8) : type === 4 ? u32(e + 8) : 1;
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

/**
 * The EXIF orientation (1–8) of a JPEG or PNG file; 1 when there is none.
 *
 * @param bytes The file.
 * @returns The orientation.
 *
 * @example
 * ```ts
 * import { exifOrientation } from "./exif.ts";
 * console.log(exifOrientation(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]))); // 1
 * ```
 */
export function exifOrientation(bytes: Uint8Array): number {
  const b = bytes;
  if (b[0] === 0xff && b[1] === 0xd8) {
    let p = 2;
    while (p + 4 <= b.length) {
      if (b[p] !== 0xff) return 1;
      const marker = b[p + 1];
      if (marker === 0xff) {
        p++;
        continue;
      }
      if (marker === 0xd9 || marker === 0xda) return 1; // end of image, start of scan
      if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        p += 2;
        continue;
      }
      const len = (b[p + 2] << 8) | b[p + 3];
      if (len < 2) return 1;
      const seg = p + 4;
      if (
        marker === 0xe1 && len >= 8 && b[seg] === 0x45 && b[seg + 1] === 0x78 &&
        b[seg + 2] === 0x69 && b[seg + 3] === 0x66 && b[seg + 4] === 0 && b[seg + 5] === 0
      ) {
        return tiffOrientation(b, seg + 6, Math.min(b.length, p + 2 + len));
      }
      p += 2 + len;
    }
    return 1;
  }
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    let p = 8;
    while (p + 12 <= b.length) {
      const len = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
      const type = String.fromCharCode(b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
      if (type === "eXIf") return tiffOrientation(b, p + 8, Math.min(b.length, p + 8 + len));
      if (type === "IDAT" || type === "IEND") return 1;
      p += 12 + len;
    }
  }
  return 1;
}
