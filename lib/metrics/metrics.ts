/**
 * Clustering quality as the seed reports it: pairwise and BCubed precision, recall and F,
 * and normalised mutual information (arithmetic mean of the entropies).
 *
 * @module
 */

import { InputError } from "../errors.ts";

/** Precision, recall and their harmonic mean. */
export interface PrecisionRecall {
  /** Precision in [0, 1]. */
  precision: number;
  /** Recall in [0, 1]. */
  recall: number;
  /** F-score (harmonic mean), 0 when both are 0. */
  f: number;
}

/** The seed's metrics of a predicted clustering against the truth. */
export interface ClusteringMetrics {
  /** Over pairs of items: a pair is positive when both items share a cluster. */
  pairwise: PrecisionRecall;
  /** BCubed: per item, the share of its cluster that shares its label, and vice versa. */
  bcubed: PrecisionRecall;
  /** Normalised mutual information, arithmetic normalisation (scikit-learn's default). */
  nmi: number;
}

function fscore(precision: number, recall: number): PrecisionRecall {
  const f = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f };
}

function codes(labels: ArrayLike<string | number>): { codes: Int32Array; count: number } {
  const map = new Map<string | number, number>();
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    let c = map.get(labels[i]);
    if (c === undefined) {
      c = map.size;
      map.set(labels[i], c);
    }
    out[i] = c;
  }
  return { codes: out, count: map.size };
}

/**
 * Compares a predicted clustering with the true labels. With n_ij the items of true class i
 * in predicted cluster j and N items: pairwise precision = (Σ n_ij² − N) / (Σ_j |pred_j|² − N),
 * recall = (Σ n_ij² − N) / (Σ_i |gt_i|² − N) (a ratio with no pairs at all counts as 1);
 * BCubed precision = Σ n_ij² / |pred_j| / N, recall = Σ n_ij² / |gt_i| / N; NMI = I / mean(H).
 *
 * @param truth True label of each item (any strings or numbers).
 * @param predicted Predicted cluster of each item.
 * @returns The metrics.
 * @throws {InputError} If the two lengths differ or are zero.
 *
 * @example
 * ```ts
 * import { evaluate } from "./metrics.ts";
 * const m = evaluate(["a", "a", "b", "b"], [0, 0, 1, 2]);
 * console.log(m.pairwise.precision, m.pairwise.recall); // 1 0.5
 * ```
 */
export function evaluate(
  truth: ArrayLike<string | number>,
  predicted: ArrayLike<string | number>,
): ClusteringMetrics {
  const n = truth.length;
  if (predicted.length !== n) {
    throw new InputError("labels", `${n} true labels but ${predicted.length} predictions`);
  }
  if (n === 0) throw new InputError("labels", "no items to evaluate");
  const gt = codes(truth), pr = codes(predicted);
  const gtSize = new Float64Array(gt.count), prSize = new Float64Array(pr.count);
  const cells = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const a = gt.codes[i], b = pr.codes[i];
    gtSize[a]++;
    prSize[b]++;
    const key = a * pr.count + b;
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  let sumCell2 = 0, bcP = 0, bcR = 0, mi = 0;
  for (const [key, c] of cells) {
    const a = Math.floor(key / pr.count), b = key - a * pr.count;
    sumCell2 += c * c;
    bcP += (c * c) / prSize[b];
    bcR += (c * c) / gtSize[a];
    mi += (c / n) * Math.log((c * n) / (gtSize[a] * prSize[b]));
  }
  let sumGt2 = 0, sumPr2 = 0, hGt = 0, hPr = 0;
  for (const s of gtSize) {
    sumGt2 += s * s;
    hGt -= (s / n) * Math.log(s / n);
  }
  for (const s of prSize) {
    sumPr2 += s * s;
    hPr -= (s / n) * Math.log(s / n);
  }
  const tp = sumCell2 - n;
  const pp = sumPr2 - n, pt = sumGt2 - n;
  const pairwise = fscore(pp > 0 ? tp / pp : 1, pt > 0 ? tp / pt : 1);
  const bcubed = fscore(bcP / n, bcR / n);
  let nmi: number;
  if (gt.count === pr.count && gt.count === 1) nmi = 1;
  else if (mi <= 0) nmi = 0;
  else nmi = Math.min(1, mi / ((hGt + hPr) / 2));
  return { pairwise, bcubed, nmi };
}
