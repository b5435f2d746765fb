/**
 * Synthetic face-like features for benchmarks: identities with heavy-tailed (log-normal)
 * sizes, same-person cosine ≈ 0.6, other-person ≈ 0; and synthetic face landmarks.
 *
 * @module
 */

import type { Point } from "../lib/align/similarity.ts";
import type { Matrix } from "../lib/io/npy.ts";
import { Prng } from "../lib/infomap/prng.ts";

function gauss(rng: Prng): number {
  const u = Math.max(rng.next(), 1e-12), v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function unit(rng: Prng, d: number, out: Float64Array): void {
  let s = 0;
  for (let x = 0; x < d; x++) {
    out[x] = gauss(rng);
    s += out[x] * out[x];
  }
  const inv = 1 / Math.sqrt(s);
  for (let x = 0; x < d; x++) out[x] *= inv;
}

/**
 * Makes `n` rows of dimension `d` and their identity labels.
 *
 * @param n Rows.
 * @param d Dimension.
 * @param seed PRNG seed.
 * @returns Features and labels.
 *
 * @example
 * ```ts
 * import { syntheticFaces } from "./synthetic.ts";
 * const { features, labels } = syntheticFaces(1000, 64, 1);
 * console.log(features.rows, labels.length); // 1000 1000
 * ```
 */
export function syntheticFaces(
  n: number,
  d: number,
  seed: number,
): { features: Matrix; labels: Int32Array } {
  const rng = new Prng(seed);
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  const c = new Float64Array(d), u = new Float64Array(d);
  const a = Math.sqrt(0.6), b = Math.sqrt(0.4);
  let row = 0, id = 0;
  while (row < n) {
    const size = Math.min(
      n - row,
      Math.max(1, Math.min(500, Math.round(Math.exp(4 + 0.8 * gauss(rng))))),
    );
    unit(rng, d, c);
    for (let s = 0; s < size; s++, row++) {
      unit(rng, d, u);
      for (let x = 0; x < d; x++) data[row * d + x] = a * c[x] + b * u[x];
      labels[row] = id;
    }
    id++;
  }
  return { features: { rows: n, cols: d, data }, labels };
}

/**
 * 68 landmarks of a face centred at (cx, cy), scaled by `s` and turned by `r` radians: only
 * what `fivePoints` reads is placed (eye corners, nose tip, mouth corners); the rest sit at
 * the centre.
 *
 * @param cx Centre x in pixels.
 * @param cy Centre y in pixels.
 * @param s Scale (1: eyes 40 pixels apart).
 * @param r Rotation in radians.
 * @returns The 68 points.
 *
 * @example
 * ```ts ignore
 * const lm = syntheticLandmarks(100, 80, 1, 0.1);
 * ```
 */
export function syntheticLandmarks(cx: number, cy: number, s: number, r: number): Point[] {
  const at = (x: number, y: number): Point => [
    cx + s * (x * Math.cos(r) - y * Math.sin(r)),
    cy + s * (x * Math.sin(r) + y * Math.cos(r)),
  ];
  const lm = Array.from({ length: 68 }, () => at(0, 0));
  for (let k = 36; k <= 41; k++) lm[k] = at(-20, -15);
  for (let k = 42; k <= 47; k++) lm[k] = at(20, -14);
  lm[30] = at(0, 8);
  lm[48] = at(-15, 27);
  lm[54] = at(16, 28);
  return lm;
}

/** What the synthetic faces imitate: cosine statistics of a real model on labeled faces. */
export interface FaceProfile {
  /** Mean cosine of two faces of one person. */
  sameMean: number;
  /** Its standard deviation. */
  sameStd: number;
  /** Standard deviation of the cosine of two faces of different people. */
  otherStd: number;
  /** Where the figures come from. */
  source: string;
}

/**
 * Measures a {@link FaceProfile} from real embeddings and their labels (all pairs).
 *
 * @param features Embeddings, one row per face.
 * @param labels Person of each row.
 * @param source Where they come from.
 * @returns The profile.
 *
 * @example
 * ```ts ignore
 * const p = measureProfile(feats, labels, "lfw1000 MobileFaceNet");
 * ```
 */
export function measureProfile(
  features: Matrix,
  labels: ArrayLike<string | number>,
  source: string,
): FaceProfile {
  const { rows: n, cols: d, data } = features;
  const unitRows = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let x = 0; x < d; x++) s += data[i * d + x] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let x = 0; x < d; x++) unitRows[i * d + x] = data[i * d + x] * inv;
  }
  let sn = 0, s1 = 0, s2 = 0, on = 0, o1 = 0, o2 = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let c = 0;
      for (let x = 0; x < d; x++) c += unitRows[i * d + x] * unitRows[j * d + x];
      if (labels[i] === labels[j]) {
        sn++;
        s1 += c;
        s2 += c * c;
      } else {
        on++;
        o1 += c;
        o2 += c * c;
      }
    }
  }
  const sameMean = s1 / sn, otherMean = o1 / on;
  return {
    sameMean,
    sameStd: Math.sqrt(s2 / sn - sameMean ** 2),
    otherStd: Math.sqrt(o2 / on - otherMean ** 2),
    source,
  };
}

/** Options of {@link profileFaces}. */
export interface ProfileFacesOptions {
  /** PRNG seed. @default 1 */
  seed?: number;
  /** Share of low-quality faces (they sit far from their person's centre). @default 0.07 */
  lowQuality?: number;
  /** Largest person. @default 5000 */
  maxSize?: number;
}

/**
 * Synthetic faces that match a {@link FaceProfile}: person sizes heavy-tailed (P(size ≥ s)
 * ≈ 1/s up to `maxSize`: half the people seen once, a few with thousands of faces); each face
 * is `a·centre + √(1−a²)·noise` with `a` drawn per face so that same-person cosines have the
 * profile's mean and spread; directions are anisotropic so that different-person cosines
 * have its spread; a share of faces are low quality (`a` 0.25–0.5, they link poorly). Labels
 * of low-quality faces are their person's.
 *
 * @param n Rows.
 * @param d Dimension.
 * @param profile The statistics to match.
 * @param options Seed, low-quality share, largest person.
 * @returns Features, labels, and which rows are low quality.
 *
 * @example
 * ```ts
 * import { profileFaces } from "./synthetic.ts";
 * const p = { sameMean: 0.63, sameStd: 0.16, otherStd: 0.1, source: "example" };
 * const { features, labels } = profileFaces(1000, 128, p);
 * console.log(features.rows, labels.length); // 1000 1000
 * ```
 */
export function profileFaces(
  n: number,
  d: number,
  profile: FaceProfile,
  options: ProfileFacesOptions = {},
): { features: Matrix; labels: Int32Array; lowQuality: Uint8Array } {
  const rng = new Prng(options.seed ?? 1);
  const lq = options.lowQuality ?? 0.07, maxSize = options.maxSize ?? 5000;
  // per-dimension scales w_x = exp(-x / tau): effective dimension 1 / otherStd²
  const target = Math.min(d, 1 / profile.otherStd ** 2);
  const effective = (tau: number) => {
    let s2 = 0, s4 = 0;
    for (let x = 0; x < d; x++) {
      const w2 = Math.exp(-2 * x / tau);
      s2 += w2;
      s4 += w2 * w2;
    }
    return (s2 * s2) / s4;
  };
  let lo = 0.1, hi = 1e6;
  for (let it = 0; it < 80; it++) {
    const mid = Math.sqrt(lo * hi);
    if (effective(mid) < target) lo = mid;
    else hi = mid;
  }
  const scale = Float64Array.from({ length: d }, (_, x) => Math.exp(-x / lo));
  // a ~ N(mu, sigma): E[a_i a_j] = mu², Var = (mu² + sigma²)² − mu⁴ + (1 − E a²)² / Deff
  const mu = Math.sqrt(profile.sameMean);
  let sLo = 0, sHi = 0.5;
  for (let it = 0; it < 60; it++) {
    const s = (sLo + sHi) / 2, ea2 = mu * mu + s * s;
    const v = ea2 * ea2 - mu ** 4 + (1 - ea2) ** 2 / target;
    if (v < profile.sameStd ** 2) sLo = s;
    else sHi = s;
  }
  const sigma = sLo;
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n), lowQuality = new Uint8Array(n);
  const c = new Float64Array(d), u = new Float64Array(d);
  const draw = (out: Float64Array) => {
    let s = 0;
    for (let x = 0; x < d; x++) {
      out[x] = gauss(rng) * scale[x];
      s += out[x] * out[x];
    }
    const inv = 1 / Math.sqrt(s);
    for (let x = 0; x < d; x++) out[x] *= inv;
  };
  let row = 0, id = 0;
  while (row < n) {
    const size = Math.min(n - row, maxSize, Math.floor(1 / Math.max(rng.next(), 1e-9)));
    draw(c);
    for (let s = 0; s < size; s++, row++) {
      draw(u);
      let a: number;
      if (rng.next() < lq) {
        a = 0.25 + 0.25 * rng.next();
        lowQuality[row] = 1;
      } else a = Math.min(0.98, Math.max(0.05, mu + sigma * gauss(rng)));
      const b = Math.sqrt(1 - a * a);
      let norm = 0;
      for (let x = 0; x < d; x++) {
        const v = a * c[x] + b * u[x];
        data[row * d + x] = v;
        norm += v * v;
      }
      const inv = 1 / Math.sqrt(norm);
      for (let x = 0; x < d; x++) data[row * d + x] *= inv;
      labels[row] = id;
    }
    id++;
  }
  return { features: { rows: n, cols: d, data }, labels, lowQuality };
}
