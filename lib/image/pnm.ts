/**
 * A decoder of the Netpbm formats PGM and PPM, plain and raw (P2, P5, P3, P6), 8- and
 * 16-bit, into RGB.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import type { RgbImage } from "./types.ts";

/** Width, height, maximum value and where the pixels start. */
export interface PnmHeader {
  /** "P2", "P3", "P5" or "P6". */
  magic: string;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Largest sample value (1..65535). */
  maxval: number;
  /** Byte offset of the first sample. */
  dataStart: number;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
}

/**
 * Reads the header of a PGM/PPM file.
 *
 * @param bytes The file.
 * @param name The file name for errors.
 * @returns The header.
 * @throws {InputError} If the header is malformed.
 *
 * @example
 * ```ts
 * import { readPnmHeader } from "./pnm.ts";
 * const h = readPnmHeader(new TextEncoder().encode("P5 2 1 255\n\x00\xff"), "a.pgm");
 * console.log(h.width, h.height, h.maxval); // 2 1 255
 * ```
 */
export function readPnmHeader(bytes: Uint8Array, name: string): PnmHeader {
  const magic = String.fromCharCode(bytes[0] ?? 0, bytes[1] ?? 0);
  if (!["P2", "P3", "P5", "P6"].includes(magic)) {
    throw new InputError(name, "not a PGM/PPM file");
  }
  let p = 2;
  const fields: number[] = [];
  while (fields.length < 3) {
    while (p < bytes.length && isSpace(bytes[p])) p++;
    if (bytes[p] === 0x23) { // '#': comment to end of line
      while (p < bytes.length && bytes[p] !== 0x0a && bytes[p] !== 0x0d) p++;
      continue;
    }
    const s = p;
    while (p < bytes.length && bytes[p] >= 0x30 && bytes[p] <= 0x39) p++;
    if (p === s) throw new InputError(name, `malformed ${magic} header`);
    fields.push(Number(new TextDecoder().decode(bytes.subarray(s, p))));
  }
  if (p >= bytes.length || !isSpace(bytes[p])) {
    throw new InputError(name, `malformed ${magic} header`);
  }
  const [width, height, maxval] = fields;
  if (width < 1 || height < 1) throw new InputError(name, `image of ${width}×${height} pixels`);
  if (maxval < 1 || maxval > 65535) throw new InputError(name, `bad maximum value ${maxval}`);
  return { magic, width, height, maxval, dataStart: p + 1 };
}

/**
 * Decodes a PGM or PPM file into RGB (gray is replicated; samples are scaled to 0..255).
 *
 * @param bytes The file.
 * @param name The file name for errors.
 * @returns The image.
 * @throws {InputError} If the file is malformed or truncated.
 *
 * @example
 * ```ts
 * import { decodePnm } from "./pnm.ts";
 * const img = decodePnm(new TextEncoder().encode("P2 2 1 255 0 255\n"), "a.pgm");
 * console.log(img.data); // Uint8Array [0, 0, 0, 255, 255, 255]
 * ```
 */
export function decodePnm(bytes: Uint8Array, name: string): RgbImage {
  const h = readPnmHeader(bytes, name);
  const channels = h.magic === "P3" || h.magic === "P6" ? 3 : 1;
  const count = h.width * h.height * channels;
  const samples = new Uint16Array(count);
  if (h.magic === "P5" || h.magic === "P6") {
    const wide = h.maxval > 255;
    const need = count * (wide ? 2 : 1);
    if (bytes.length - h.dataStart < need) {
      throw new InputError(
        name,
        `truncated: ${need} bytes of pixels expected, ${bytes.length - h.dataStart} found`,
      );
    }
    for (let i = 0, p = h.dataStart; i < count; i++) {
      samples[i] = wide ? (bytes[p++] << 8) | bytes[p++] : bytes[p++];
    }
  } else {
    let p = h.dataStart;
    for (let i = 0; i < count; i++) {
      while (p < bytes.length && (isSpace(bytes[p]) || bytes[p] === 0x23)) {
        if (bytes[p] === 0x23) { while (p < bytes.length && bytes[p] !== 0x0a) p++; }
        else p++;
      }
      let v = 0, digits = 0;
      while (p < bytes.length && bytes[p] >= 0x30 && bytes[p] <= 0x39) {
        v = v * 10 + bytes[p++] - 0x30;
        digits++;
      }
      if (digits === 0) {
        throw new InputError(name, `truncated: ${count} samples expected, ${i} found`);
      }
      samples[i] = Math.min(v, h.maxval);
    }
  }
  const data = new Uint8Array(h.width * h.height * 3);
  const scale = 255 / h.maxval;
  for (let px = 0; px < h.width * h.height; px++) {
    for (let c = 0; c < 3; c++) {
      data[px * 3 + c] = Math.round(samples[px * channels + (channels === 3 ? c : 0)] * scale);
    }
  }
  return { width: h.width, height: h.height, data };
}
