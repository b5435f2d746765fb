/**
 * Face verification quality of embeddings: every same-person pair against every
 * different-person pair, scored by cosine similarity. ROC AUC, and the true-accept rate at a
 * given false-accept rate (TAR@FAR) with the threshold that gives it.
 *
 * @module
 */

/** Verification figures of a set of labeled embeddings. */
export interface VerificationResult {
  /** Same-person pairs. */
  samePairs: number;
  /** Different-person pairs. */
  differentPairs: number;
  /** Area under the ROC curve (ties count one half). */
  auc: number;
  /** For each asked FAR: the cosine threshold and the TAR at it. */
  tar: { far: number; threshold: number; tar: number }[];
}

/**
 * Scores all pairs of `labels.length` unit vectors.
 *
 * @param vectors `n × dims` unit vectors, row-major.
 * @param dims Vector length.
 * @param labels The person of each row.
 * @param fars False-accept rates to report TAR at. @default [1e-3, 1e-4]
 * @returns Pair counts, AUC and TAR@FAR.
 *
 * @example
 * ```ts
 * import { verification } from "./verification.ts";
 * const v = new Float32Array([1, 0, 0.96, 0.28, 0, 1, 0.28, 0.96]);
 * const r = verification(v, 2, ["a", "a", "b", "b"], [0.25]);
 * console.log(r.auc); // 1
 * ```
 */
export function verification(
  vectors: Float32Array,
  dims: number,
  labels: string[],
  fars: number[] = [1e-3, 1e-4],
): VerificationResult {
  const n = labels.length;
  const ids = new Int32Array(n);
  const names = new Map<string, number>();
  labels.forEach((l, i) => {
    if (!names.has(l)) names.set(l, names.size);
    ids[i] = names.get(l)!;
  });
  let nSame = 0;
  const count = new Map<number, number>();
  for (const id of ids) count.set(id, (count.get(id) ?? 0) + 1);
  for (const c of count.values()) nSame += c * (c - 1) / 2;
  const nDiff = n * (n - 1) / 2 - nSame;
  const same = new Float32Array(nSame), diff = new Float32Array(nDiff);
  let s = 0, d = 0;
  for (let i = 0; i < n; i++) {
    const a = i * dims;
    for (let j = i + 1; j < n; j++) {
      const b = j * dims;
      let dot = 0;
      for (let t = 0; t < dims; t++) dot += vectors[a + t] * vectors[b + t];
      if (ids[i] === ids[j]) same[s++] = dot;
      else diff[d++] = dot;
    }
  }
  same.sort();
  diff.sort();
  // AUC: P(same > diff) + ½ P(equal), by a merge of the two sorted lists
  let below = 0, auc = 0;
  for (let i = 0; i < nSame; i++) {
    while (below < nDiff && diff[below] < same[i]) below++;
    let eq = 0;
    while (below + eq < nDiff && diff[below + eq] === same[i]) eq++;
    auc += below + eq / 2;
  }
  auc = nSame && nDiff ? auc / nSame / nDiff : NaN;
  const tar = fars.map((far) => {
    // the threshold accepts at most far × nDiff different pairs (strictly above it)
    const allowed = Math.floor(far * nDiff);
    const threshold = nDiff ? diff[Math.max(0, nDiff - 1 - allowed)] : 1;
    let hi = nSame, lo = 0; // first same index with score > threshold
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (same[m] > threshold) hi = m;
      else lo = m + 1;
    }
    return { far, threshold, tar: nSame ? (nSame - lo) / nSame : NaN };
  });
  return { samePairs: nSame, differentPairs: nDiff, auc, tar };
}
