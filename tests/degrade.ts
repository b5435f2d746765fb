/**
 * Photos made hard to recognise, for the tests and `bench/degraded.ts` (issue #24): a blur of
 * sigma 6, brightness × 0.12 with noise, the left half × 0.05 (a side light), 14 pixels wide
 * and back, or cut to the right 40% of the picture. Made here from shared photos; nothing is
 * kept in the repository.
 *
 * @module
 */

import { loadSharp } from "../lib/image/decode.ts";
import { SHARED, sharedPhotos } from "./shared.ts";

/** The degradations. */
export const KINDS = ["blur", "dark", "shadow", "lowres", "cut"] as const;
export type Kind = typeof KINDS[number];

/**
 * A degraded copy of a photo, as a JPEG.
 *
 * @param bytes The photo.
 * @param kind The degradation.
 * @param seed The noise's seed (dark).
 * @returns The JPEG's bytes.
 */
export async function degrade(bytes: Uint8Array, kind: Kind, seed: number): Promise<Uint8Array> {
  const sharp = (await loadSharp())!;
  const img = sharp(bytes).rotate();
  const { width, height } = await img.metadata() as { width: number; height: number };
  if (kind === "blur") return new Uint8Array(await img.blur(6).jpeg({ quality: 90 }).toBuffer());
  if (kind === "lowres") {
    const small = await img.resize(14, null).toBuffer();
    return new Uint8Array(
      await sharp(small).resize(width, height, { kernel: "nearest" }).jpeg({ quality: 90 })
        .toBuffer(),
    );
  }
  if (kind === "cut") {
    const w = Math.round(width * 0.4);
    return new Uint8Array(
      await img.extract({ left: width - w, top: 0, width: w, height }).jpeg({ quality: 90 })
        .toBuffer(),
    );
  }
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const px = new Uint8Array(data);
  let s = seed >>> 0;
  const noise = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 12;
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * 3;
      const f = kind === "dark" ? 0.12 : x < info.width / 2 ? 0.05 : 1;
      for (let c = 0; c < 3; c++) {
        const v = px[i + c] * f + (kind === "dark" ? noise() : 0);
        px[i + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return new Uint8Array(
    await sharp(px, { raw: { width: info.width, height: info.height, channels: 3 } })
      .jpeg({ quality: 90 }).toBuffer(),
  );
}

/**
 * Degraded copies of lfw_min10's first `people` people (`per` photos each, the degradations in
 * turn), labels kept: into `degraded/PERSON/KIND_FILE` and, with the clean originals beside
 * them as `clean_FILE`, into `mixed/PERSON/`.
 *
 * @param root The folder the two sets go into.
 * @param people How many people.
 * @param per Photos of each.
 */
export async function makeDegradedSets(root: string, people: number, per: number): Promise<void> {
  const photos = sharedPhotos("lfw_min10");
  const who = [...new Set(photos.map((p) => p.split("/")[0]))].slice(0, people);
  let seed = 1;
  for (const w of who) {
    for (const set of ["degraded", "mixed"]) {
      await Deno.mkdir(`${root}/${set}/${w}`, { recursive: true });
    }
    for (const [i, p] of photos.filter((x) => x.startsWith(`${w}/`)).slice(0, per).entries()) {
      const bytes = await Deno.readFile(`${SHARED}faces/lfw_min10/${p}`);
      const kind = KINDS[(i + seed) % KINDS.length];
      const out = await degrade(bytes, kind, seed++);
      const file = p.split("/")[1];
      await Deno.writeFile(`${root}/degraded/${w}/${kind}_${file}`, out);
      await Deno.writeFile(`${root}/mixed/${w}/${kind}_${file}`, out);
      await Deno.writeFile(`${root}/mixed/${w}/clean_${file}`, bytes);
    }
  }
}
