import { chipAsJpeg, chipType, encodeChip } from "../../lib/image/encode_chip.ts";
import { decodeImage, sniffFormat } from "../../lib/image/decode.ts";
import { exifOrientation } from "../../lib/image/exif.ts";
import { decodePnm } from "../../lib/image/pnm.ts";
import {
  applyOrientation,
  invertAffine,
  resizeBilinear,
  roundPixel,
  warpAffine,
} from "../../lib/image/transform.ts";
import type { RgbImage } from "../../lib/image/types.ts";
import {
  encodeJpeg,
  encodePng,
  encodePnm,
  patternImage,
  withJpegOrientation,
  withPngOrientation,
} from "../image_fixtures.ts";
import { assert, assertEquals, assertRejectsInput, hasShared, SHARED } from "../shared.ts";

function pixel(img: RgbImage, x: number, y: number): number[] {
  const o = (y * img.width + x) * 3;
  return Array.from(img.data.subarray(o, o + 3));
}

const rejects = assertRejectsInput;

// Where the stored pixel (x, y) of a W×H image appears once upright, per EXIF orientation
// (TIFF 6.0 / EXIF 2.3: 1 normal, 2 mirrored, 3 rotated 180°, 4 flipped, 5 transposed,
// 6 needs 90° clockwise, 7 transversed, 8 needs 90° counter-clockwise).
const UPRIGHT: Record<number, (x: number, y: number, W: number, H: number) => [number, number]> = {
  1: (x, y) => [x, y],
  2: (x, y, W) => [W - 1 - x, y],
  3: (x, y, W, H) => [W - 1 - x, H - 1 - y],
  4: (x, y, _W, H) => [x, H - 1 - y],
  5: (x, y) => [y, x],
  6: (x, y, _W, H) => [H - 1 - y, x],
  7: (x, y, W, H) => [H - 1 - y, W - 1 - x],
  8: (x, y, W) => [y, W - 1 - x],
};

Deno.test("image: PNG with EXIF orientation 1–8 is turned upright exactly", async () => {
  const src = patternImage(4, 3);
  const png = await encodePng(src);
  for (let o = 1; o <= 8; o++) {
    const bytes = withPngOrientation(png, o);
    assertEquals(exifOrientation(bytes), o, `orientation ${o} read back`);
    const img = await decodeImage(bytes, `o${o}.png`);
    const swap = o >= 5;
    assertEquals([img.width, img.height], swap ? [3, 4] : [4, 3], `size for ${o}`);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 4; x++) {
        const [ux, uy] = UPRIGHT[o](x, y, 4, 3);
        assertEquals(pixel(img, ux, uy), pixel(src, x, y), `o=${o} stored (${x},${y})`);
      }
    }
  }
});

Deno.test("image: JPEG with EXIF orientation 6 and 8 is rotated", async () => {
  // left half red, right half blue; 32×16 so that JPEG blocks keep the colours clean
  const src: RgbImage = { width: 32, height: 16, data: new Uint8Array(32 * 16 * 3) };
  for (let y = 0; y < 16; y++) {
    for (let x = 0; x < 32; x++) {
      src.data.set(x < 16 ? [220, 20, 20] : [20, 20, 220], (y * 32 + x) * 3);
    }
  }
  const jpeg = await encodeJpeg(src);
  const cw = await decodeImage(withJpegOrientation(jpeg, 6), "cw.jpg");
  assertEquals([cw.width, cw.height], [16, 32]);
  assert(pixel(cw, 8, 4)[0] > 180 && pixel(cw, 8, 28)[2] > 180, "6: red on top, blue below");
  const ccw = await decodeImage(withJpegOrientation(jpeg, 8), "ccw.jpg");
  assert(pixel(ccw, 8, 4)[2] > 180 && pixel(ccw, 8, 28)[0] > 180, "8: blue on top, red below");
});

Deno.test("image: PGM and PPM, plain and raw, 8 and 16 bit", async () => {
  const src = patternImage(5, 2);
  for (const kind of ["P2", "P5", "P3", "P6"] as const) {
    const img = await decodeImage(encodePnm(src, kind), `a.${kind}`);
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 5; x++) {
        const want = kind === "P2" || kind === "P5"
          ? [pixel(src, x, y)[0], pixel(src, x, y)[0], pixel(src, x, y)[0]]
          : pixel(src, x, y);
        assertEquals(pixel(img, x, y), want, `${kind} (${x},${y})`);
      }
    }
  }
  // 16-bit raw PGM: 65535 is white, 32768 mid-gray
  const p16 = new Uint8Array([
    ...new TextEncoder().encode("P5 2 1 65535\n"),
    0xff,
    0xff,
    0x80,
    0x00,
  ]);
  assertEquals(Array.from(decodePnm(p16, "w.pgm").data), [255, 255, 255, 128, 128, 128]);
  await rejects(
    decodeImage(encodePnm(src, "P5").slice(0, -4), "short.pgm"),
    "short.pgm: truncated",
  );
  await rejects(
    decodeImage(new TextEncoder().encode("P5 x 1 255\n"), "bad.pgm"),
    "bad.pgm: malformed",
  );
});

Deno.test("image: format from bytes, not the name; alpha over white; bad files named", async () => {
  const src = patternImage(3, 2);
  const alpha = new Uint8Array([255, 0, 255, 255, 128, 255]);
  const png = await encodePng(src, alpha);
  assertEquals(sniffFormat(png), "png");
  const img = await decodeImage(png, "really_a_png.jpg");
  assertEquals(pixel(img, 0, 0), pixel(src, 0, 0));
  assertEquals(pixel(img, 1, 0), [255, 255, 255]);
  const half = pixel(src, 1, 1).map((v) => Math.round((v * 128 + 255 * 127) / 255));
  assertEquals(pixel(img, 1, 1), half);
  await rejects(
    decodeImage(new TextEncoder().encode("hello, not an image"), "notes.jpg"),
    "notes.jpg: not an image",
  );
  await rejects(decodeImage(new Uint8Array(0), "empty.png"), "empty.png: not an image");
  const jpeg = await encodeJpeg(patternImage(16, 16));
  await rejects(
    decodeImage(jpeg.subarray(0, jpeg.length >> 1), "cut.jpg"),
    "cut.jpg: corrupt or truncated JPEG",
  );
  await rejects(
    decodeImage(new TextEncoder().encode("GIF89a......"), "anim.gif"),
    "anim.gif: corrupt or truncated GIF",
  );
});

Deno.test("image: WEBP, TIFF, GIF and AVIF through sharp, upright by EXIF; HEIC a clear error", async () => {
  // deno-lint-ignore no-import-prefix -- the same pinned sharp the decoder loads
  const sharp = (await import("npm:sharp@0.35.5")).default;
  const src = patternImage(24, 16);
  const raw = () => sharp(src.data, { raw: { width: 24, height: 16, channels: 3 } });
  const files: [string, Uint8Array, number][] = [
    ["a.webp", await raw().webp({ lossless: true }).toBuffer(), 0],
    ["a.tiff", await raw().tiff({ compression: "lzw" }).toBuffer(), 0],
    ["a.gif", await raw().gif().toBuffer(), 60], // a 256-colour palette
    ["a.avif", await raw().avif({ lossless: true }).toBuffer(), 6],
  ];
  for (const [name, bytes, tol] of files) {
    const img = await decodeImage(new Uint8Array(bytes), name);
    assertEquals([img.width, img.height], [24, 16], name);
    let worst = 0;
    for (let i = 0; i < src.data.length; i++) {
      worst = Math.max(worst, Math.abs(img.data[i] - src.data[i]));
    }
    assert(worst <= tol, `${name}: worst pixel difference ${worst}`);
  }
  // EXIF orientation 6 (turned 90°): the decoded image is upright, so 16 wide and 24 high
  const turned = await raw().webp({ lossless: true }).withMetadata({ orientation: 6 }).toBuffer();
  const up = await decodeImage(new Uint8Array(turned), "turned.webp");
  assertEquals([up.width, up.height], [16, 24]);
  assertEquals(pixel(up, 15, 0), pixel(src, 0, 0)); // top left went to the top right
  // a HEIC file (ISO base media with brand heic) is refused with what to do
  const heic = new Uint8Array(32);
  heic.set([0, 0, 0, 24, ...new TextEncoder().encode("ftypheic")]);
  assertEquals(sniffFormat(heic), "heic");
  await rejects(decodeImage(heic, "IMG_0001.HEIC"), "IMG_0001.HEIC: HEIC/HEIF is not supported");
  await rejects(decodeImage(heic, "IMG_0001.HEIC"), "convert it to JPEG first");
  await rejects(
    decodeImage(new Uint8Array(bytesOf("RIFF\0\0\0\0WEBPVP8 ")), "cut.webp"),
    "cut.webp: corrupt or truncated WEBP",
  );
});

function bytesOf(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

Deno.test("image: a decompression bomb is refused from its header, before decoding", async () => {
  // a PNG signature and an IHDR claiming 100000×100000 pixels, no image data at all
  const b = new Uint8Array(33);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(b.buffer).setUint32(16, 100000);
  new DataView(b.buffer).setUint32(20, 100000);
  await rejects(
    decodeImage(b, "bomb.png"),
    "bomb.png: 100000×100000 = 10000000000 pixels is over the limit",
  );
  const jpeg = await encodeJpeg(patternImage(40, 30));
  await rejects(decodeImage(jpeg, "big.jpg", { maxPixels: 1000 }), "40×30 = 1200 pixels");
  assertEquals((await decodeImage(jpeg, "ok.jpg", { maxPixels: 1200 })).width, 40);
});

Deno.test("image: affine warp and bilinear resize", () => {
  const src = patternImage(4, 3);
  // identity
  assertEquals(Array.from(warpAffine(src, [1, 0, 0, 0, 1, 0], 4, 3).data), Array.from(src.data));
  // a 90° rotation as an affine map equals EXIF orientation 6
  const rot = warpAffine(src, [0, 1, 0, -1, 0, 2], 3, 4);
  assertEquals(Array.from(rot.data), Array.from(applyOrientation(src, 6).data));
  // half-pixel shift averages neighbours; outside the source is black
  const shifted = warpAffine(src, [1, 0, 0.5, 0, 1, 0], 4, 1);
  assertEquals(
    pixel(shifted, 0, 0)[0],
    Math.round((pixel(src, 0, 0)[0] + pixel(src, 1, 0)[0]) / 2),
  );
  assertEquals(pixel(shifted, 3, 0)[0], Math.round(pixel(src, 3, 0)[0] / 2));
  // inverse of a similarity map
  const m = invertAffine([2, 0, 3, 0, 2, -1]);
  assertEquals(m, [0.5, -0, -1.5, -0, 0.5, 0.5]);
  // resize: a constant stays constant; 2× down of a 2-periodic stripe averages it
  const flat: RgbImage = { width: 7, height: 5, data: new Uint8Array(105).fill(77) };
  assert(resizeBilinear(flat, 3, 11).data.every((v) => v === 77));
  const stripes: RgbImage = {
    width: 4,
    height: 1,
    data: new Uint8Array([0, 0, 0, 200, 200, 200, 0, 0, 0, 200, 200, 200]),
  };
  assertEquals(Array.from(resizeBilinear(stripes, 2, 1).data), [100, 100, 100, 100, 100, 100]);
});

Deno.test("image: sharp and imagescript decode the same pixels (PNG exact, JPEG and alpha within rounding)", async () => {
  const { activeDecoder } = await import("../../lib/image/decode.ts");
  if ((await activeDecoder()) !== "sharp") {
    console.log("SKIP: sharp does not load on this platform; imagescript decodes everything");
    return;
  }
  const src = patternImage(64, 48);
  const png = await encodePng(src);
  const translucent = await encodePng(src, new Uint8Array(64 * 48).fill(200));
  const jpeg = await encodeJpeg(src);
  const decodeBoth = async (b: Uint8Array, name: string) => {
    const a = await decodeImage(b, name);
    Deno.env.set("FACECLUSTER_DECODER", "imagescript");
    try {
      assertEquals(await activeDecoder(), "imagescript");
      return [a, await decodeImage(b, name)];
    } finally {
      Deno.env.delete("FACECLUSTER_DECODER");
    }
  };
  const [p1, p2] = await decodeBoth(png, "a.png");
  assertEquals([p1.width, p1.height], [64, 48]);
  assertEquals([...p1.data], [...p2.data]);
  const [t1, t2] = await decodeBoth(translucent, "t.png");
  assert(t1.data.every((v, i) => Math.abs(v - t2.data[i]) <= 1), "alpha over white within 1");
  const [j1, j2] = await decodeBoth(jpeg, "a.jpg");
  let sum = 0;
  for (let i = 0; i < j1.data.length; i++) sum += Math.abs(j1.data[i] - j2.data[i]);
  assert(sum / j1.data.length < 2, `mean |Δ| ${sum / j1.data.length}`);
});

Deno.test("image: roundPixel is Math.round on pixel values (halves, just below halves, random)", () => {
  const values = [0, 0.5, 1.5, 254.5, 255, 0.49999999999999994, 254.49999999999997, 1e-300];
  for (let k = 0; k < 256; k++) values.push(k + 0.5, k + 0.5 - 1e-13, k + 0.5 + 1e-13);
  let seed = 11;
  for (let i = 0; i < 100_000; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    values.push((seed / 2 ** 32) * 256);
  }
  for (const v of values) assertEquals(roundPixel(v), Math.round(v), `at ${v}`);
});

Deno.test("image: resizeBilinear equals the per-pixel bilinear formula, enlarging and shrinking", () => {
  let seed = 5;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  for (const [W, H, w, h] of [[25, 25, 51, 51], [64, 48, 51, 38], [7, 19, 40, 3], [1, 1, 5, 5]]) {
    const img = { width: W, height: H, data: Uint8Array.from({ length: W * H * 3 }, rnd) };
    const got = resizeBilinear(img, w, h).data;
    const sx = W / w, sy = H / h;
    for (let y = 0; y < h; y++) {
      const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), H - 1);
      const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, H - 1), ay = fy - y0;
      for (let x = 0; x < w; x++) {
        const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), W - 1);
        const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, W - 1), ax = fx - x0;
        for (let c = 0; c < 3; c++) {
          const p = (yy: number, xx: number) => img.data[(yy * W + xx) * 3 + c];
          const want = Math.round(
            (1 - ay) * ((1 - ax) * p(y0, x0) + ax * p(y0, x1)) +
              ay * ((1 - ax) * p(y1, x0) + ax * p(y1, x1)),
          );
          assertEquals(got[(y * w + x) * 3 + c], want, `${W}×${H}→${w}×${h} at ${x},${y},${c}`);
        }
      }
    }
  }
});

Deno.test({
  name:
    "chips: a face stored as JPEG a tenth of PNG's size; an older library's PNG chip becomes JPEG",
  ignore: !hasShared("faces/bbt_faceapi"),
  fn: async () => {
    // a real face: the middle 112 × 112 of a bbt_faceapi photo
    const photo = await decodeImage(
      await Deno.readFile(`${SHARED}faces/bbt_faceapi/amy/amy1.png`),
      "amy1.png",
    );
    const img = { width: 112, height: 112, data: new Uint8Array(112 * 112 * 3) };
    const x0 = (photo.width - 112) >> 1, y0 = (photo.height - 112) >> 1;
    for (let y = 0; y < 112; y++) {
      img.data.set(
        photo.data.subarray(
          ((y0 + y) * photo.width + x0) * 3,
          ((y0 + y) * photo.width + x0 + 112) * 3,
        ),
        y * 112 * 3,
      );
    }
    const jpeg = await encodeChip(img);
    const png = await encodePng(img);
    assertEquals([jpeg[0], jpeg[1], chipType(jpeg), chipType(png)], [
      0xff,
      0xd8,
      "image/jpeg",
      "image/png",
    ]);
    assert(jpeg.length * 5 < png.length, `JPEG ${jpeg.length} B, PNG ${png.length} B`);
    const back = await decodeImage(jpeg, "chip.jpg");
    assertEquals([back.width, back.height], [112, 112]);
    // quality 85 keeps the picture: mean absolute error a few levels of 255
    let err = 0;
    for (let i = 0; i < img.data.length; i++) err += Math.abs(img.data[i] - back.data[i]);
    assert(err / img.data.length < 5, `mean error ${err / img.data.length}`);
    assertEquals(chipType(await chipAsJpeg(png, "old chip")), "image/jpeg");
    assertEquals(await chipAsJpeg(jpeg, "new chip"), jpeg);
  },
});
