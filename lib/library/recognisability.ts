/**
 * Faces nobody can recognise: blurred, dark, cut or tiny faces embed close to each other,
 * near what face-recognition papers call the unrecognisable-identity centre, so they pass the
 * link threshold together and form a "person" of many people. The centre is estimated from
 * the library's own faces with no per-dataset tuning: a sample of their aligned chips, each
 * blurred until no identity is left, embedded by the library's model, averaged. A person
 * whose mean direction lies near it is dissolved after clustering (its faces are kept apart
 * as hard to recognise); a person with faces the user put there never is. Then a face whose own
 * direction lies near it joins nobody either. The thresholds are the model's own
 * (`EmbeddingModel.unrecognisable`, `unrecognisableFace`): 0.4 and 0.35 for MobileFaceNet; a
 * model without them (dlib, whose embeddings all lie within a narrow cone) has no such check.
 *
 * Measured (BENCHMARKS.md, `bench/degraded.ts`): the cosine of a person's mean to this centre
 * is 0.51–0.60 for the junk people of degraded lfw photos and at most 0.23 for every real
 * person of bbt_faceapi, five_celebrity and orl_att (MobileFaceNet).
 *
 * @module
 */

import { decodeImage, loadSharp } from "../image/decode.ts";
import type { RgbImage } from "../image/types.ts";

/** Chips sampled to estimate the centre. */
export const CENTRE_SAMPLE = 32;

/** Fewest faces for an estimate (fewer: no check). */
export const CENTRE_MIN_FACES = 8;

/**
 * A chip blurred until no identity is left: three passes of a box blur whose radius is a
 * twenty-fifth of the chip (about a Gaussian of sigma 1/25 of it: 4.5 pixels on a 112-pixel
 * chip, as a sigma of 6 on a 250-pixel LFW photo), edges clamped.
 *
 * @param chip An aligned face chip.
 * @returns The blurred chip.
 *
 * @example
 * ```ts
 * import { blurChip } from "./recognisability.ts";
 * const chip = { width: 4, height: 1, data: new Uint8Array([0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255]) };
 * console.log(blurChip(chip).data[0] > 0); // true
 * ```
 */
export function blurChip(chip: RgbImage): RgbImage {
  const r = Math.max(1, Math.round(chip.width / 25));
  let data: Float32Array = Float32Array.from(chip.data);
  for (let pass = 0; pass < 3; pass++) {
    data = boxBlur(data, chip.width, chip.height, r, true);
    data = boxBlur(data, chip.width, chip.height, r, false);
  }
  return {
    width: chip.width,
    height: chip.height,
    data: Uint8Array.from(data, (v) => Math.max(0, Math.min(255, Math.round(v)))),
  };
}

/** One box-blur pass along rows (`horizontal`) or columns, RGB, edges clamped (running sums). */
function boxBlur(
  src: Float32Array,
  w: number,
  h: number,
  r: number,
  horizontal: boolean,
): Float32Array {
  const out = new Float32Array(src.length);
  const [n, lines] = horizontal ? [w, h] : [h, w];
  const step = horizontal ? 3 : 3 * w, norm = 1 / (2 * r + 1);
  for (let line = 0; line < lines; line++) {
    const base = horizontal ? line * w * 3 : line * 3;
    for (let c = 0; c < 3; c++) {
      const at = (i: number) => src[base + Math.min(n - 1, Math.max(0, i)) * step + c];
      let sum = 0;
      for (let k = -r; k <= r; k++) sum += at(k);
      for (let i = 0; i < n; i++) {
        out[base + i * step + c] = sum * norm;
        sum += at(i + r + 1) - at(i - r);
      }
    }
  }
  return out;
}

/**
 * A stored chip (PNG) blurred as {@link blurChip} does, by sharp where it loads (native,
 * several at once), else decoded and blurred here.
 *
 * @param png The chip.
 * @param name Its name in errors.
 * @returns The blurred chip.
 *
 * @example
 * ```ts ignore
 * const blurred = await blurStoredChip((await store.chip(7))!, "face 7");
 * ```
 */
export async function blurStoredChip(png: Uint8Array, name: string): Promise<RgbImage> {
  const sharp = await loadSharp();
  if (!sharp) return blurChip(await decodeImage(png, name));
  const img = sharp(png);
  const { width } = await img.metadata() as { width: number };
  // three box passes of radius w/25 are a Gaussian of sigma ≈ w/25
  const { data, info } = await img.blur(Math.max(0.3, width / 25)).removeAlpha().raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/**
 * The unrecognisable-identity centre from blurred chips' embeddings.
 *
 * @param vectors The blurred chips' unit vectors, `n × dims`.
 * @param dims Vector length.
 * @returns Their mean direction, or null for none.
 *
 * @example
 * ```ts
 * import { centreOf } from "./recognisability.ts";
 * console.log(centreOf(new Float32Array([1, 0, 1, 0]), 2)); // Float32Array(2) [1, 0]
 * ```
 */
export function centreOf(vectors: Float32Array, dims: number): Float32Array | null {
  const n = vectors.length / dims;
  if (n === 0) return null;
  const mean = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) mean[j] += vectors[i * dims + j];
  const len = Math.hypot(...mean);
  return len > 0 ? Float32Array.from(mean, (x) => x / len) : null;
}

/**
 * The faces whose chips estimate the centre: up to {@link CENTRE_SAMPLE}, those whose content
 * keys (photo bytes' hash and box) hash lowest, so that the same photos give the same sample
 * in any library, and a few new photos change only a few of its faces.
 *
 * @param faces Candidates, each with its id and content key.
 * @returns The sample, in hash order.
 *
 * @example
 * ```ts
 * import { centreSample } from "./recognisability.ts";
 * console.log(centreSample([{ id: 1, key: "a" }, { id: 2, key: "b" }]).length); // 2
 * ```
 */
export function centreSample<T extends { key: string }>(faces: T[]): T[] {
  const hashed = faces.map((f) => ({ f, h: fnv1a(f.key) }));
  hashed.sort((a, b) => a.h - b.h || (a.f.key < b.f.key ? -1 : a.f.key > b.f.key ? 1 : 0));
  return hashed.slice(0, CENTRE_SAMPLE).map((x) => x.f);
}

/** FNV-1a, 32 bits. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
