/**
 * Test images drawn in code: PNG/JPEG through imagescript's encoder, PGM/PPM by hand, and
 * EXIF orientation inserted into either.
 *
 * @module
 */

import { Image } from "imagescript";
import type { RgbImage } from "../lib/image/types.ts";

/** A width×height image whose every pixel has a distinct colour. */
export function patternImage(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = 10 + 20 * x;
      data[o + 1] = 10 + 20 * y;
      data[o + 2] = 128;
    }
  }
  return { width, height, data };
}

/** Encodes RGB (and optional per-pixel alpha) as PNG with imagescript. */
export async function encodePng(img: RgbImage, alpha?: Uint8Array): Promise<Uint8Array> {
  const im = new Image(img.width, img.height);
  for (let i = 0; i < img.width * img.height; i++) {
    im.bitmap[i * 4] = img.data[i * 3];
    im.bitmap[i * 4 + 1] = img.data[i * 3 + 1];
    im.bitmap[i * 4 + 2] = img.data[i * 3 + 2];
    im.bitmap[i * 4 + 3] = alpha ? alpha[i] : 255;
  }
  return await im.encode();
}

/** Encodes RGB as JPEG with imagescript. */
export async function encodeJpeg(img: RgbImage): Promise<Uint8Array> {
  const im = new Image(img.width, img.height);
  for (let i = 0; i < img.width * img.height; i++) {
    im.bitmap.set([img.data[i * 3], img.data[i * 3 + 1], img.data[i * 3 + 2], 255], i * 4);
  }
  return await im.encodeJPEG(95);
}

/** A little-endian TIFF block with IFD0 holding only the orientation tag. */
function tiffWithOrientation(o: number): Uint8Array {
  const t = new Uint8Array(26);
  const v = new DataView(t.buffer);
  t.set([0x49, 0x49]);
  v.setUint16(2, 42, true);
  v.setUint32(4, 8, true);
  v.setUint16(8, 1, true); // one entry
  v.setUint16(10, 0x0112, true);
  v.setUint16(12, 3, true); // SHORT
  v.setUint32(14, 1, true);
  v.setUint16(18, o, true);
  v.setUint32(22, 0, true); // no next IFD
  return t;
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** Inserts an eXIf chunk with orientation `o` after a PNG's IHDR chunk. */
export function withPngOrientation(png: Uint8Array, o: number): Uint8Array {
  const body = tiffWithOrientation(o);
  const chunk = new Uint8Array(12 + body.length);
  const v = new DataView(chunk.buffer);
  v.setUint32(0, body.length);
  chunk.set([0x65, 0x58, 0x49, 0x66], 4); // "eXIf"
  chunk.set(body, 8);
  v.setUint32(8 + body.length, crc32(chunk.subarray(4, 8 + body.length)));
  const at = 8 + 25; // signature + IHDR (13-byte body + 12)
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, at));
  out.set(chunk, at);
  out.set(png.subarray(at), at + chunk.length);
  return out;
}

/** Inserts an APP1 Exif segment with orientation `o` after a JPEG's SOI marker. */
export function withJpegOrientation(jpeg: Uint8Array, o: number): Uint8Array {
  const tiff = tiffWithOrientation(o);
  const seg = new Uint8Array(4 + 6 + tiff.length);
  seg.set([0xff, 0xe1, (seg.length - 2) >> 8, (seg.length - 2) & 0xff]);
  seg.set([0x45, 0x78, 0x69, 0x66, 0, 0], 4);
  seg.set(tiff, 10);
  const out = new Uint8Array(jpeg.length + seg.length);
  out.set(jpeg.subarray(0, 2));
  out.set(seg, 2);
  out.set(jpeg.subarray(2), 2 + seg.length);
  return out;
}

/** A PGM (P5, or P2 when `plain`) of the red channel, or PPM (P6/P3) of all channels. */
export function encodePnm(img: RgbImage, kind: "P2" | "P3" | "P5" | "P6"): Uint8Array {
  const rgb = kind === "P3" || kind === "P6";
  const samples: number[] = [];
  for (let i = 0; i < img.width * img.height; i++) {
    if (rgb) samples.push(img.data[i * 3], img.data[i * 3 + 1], img.data[i * 3 + 2]);
    else samples.push(img.data[i * 3]);
  }
  const header = `${kind}\n# drawn by the tests\n${img.width} ${img.height}\n255\n`;
  const enc = new TextEncoder();
  if (kind === "P2" || kind === "P3") return enc.encode(header + samples.join(" ") + "\n");
  const h = enc.encode(header);
  const out = new Uint8Array(h.length + samples.length);
  out.set(h);
  out.set(samples, h.length);
  return out;
}
