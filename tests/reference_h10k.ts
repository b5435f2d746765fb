/**
 * Comparison of a link list with the reference `faces_h10k` list: same pairs except pairs
 * whose similarity lies within 1e-6 of min_sim (or ties at the k-th similarity), and
 * weights within 1e-5.
 *
 * @module
 */

import type { Links } from "../lib/knn/links.ts";
import type { KnnGraph } from "../lib/knn/types.ts";
import { assert, readLinkList, SHARED } from "./shared.ts";

/** Paths of the reference data. */
export const H10K = {
  feats: `${SHARED}reference/synthetic_h10k/feats.npy`,
  labels: `${SHARED}reference/synthetic_h10k/labels.txt`,
  metrics: `${SHARED}reference/synthetic_h10k/reference_metrics.json`,
  links: `${SHARED}reference/infomap/faces_h10k.txt`,
};

/**
 * Asserts that `links` equal the reference list up to threshold and k-th ties.
 *
 * @param links Links to check.
 * @param knn The kNN lists they came from (for the k-th similarity of each row).
 * @param minSim The threshold used.
 */
export async function assertLinksMatchReference(
  links: Links,
  knn: KnnGraph,
  minSim: number,
): Promise<void> {
  const ref = await readLinkList(H10K.links);
  const mine = new Map<number, number>();
  const key = (s: number, t: number) => s * 1e6 + t;
  for (let e = 0; e < links.source.length; e++) {
    mine.set(key(links.source[e], links.target[e]), links.weight[e]);
  }
  const kth = (i: number) => knn.similarities[i * knn.k + knn.k - 1];
  const borderline = (i: number, w: number) =>
    Math.abs(w - minSim) <= 1e-6 || Math.abs(w - kth(i)) <= 1e-6;
  let missing = 0, extra = 0, worst = 0;
  const refKeys = new Set<number>();
  for (let e = 0; e < ref.source.length; e++) {
    const s = ref.source[e], t = ref.target[e], w = ref.weight[e];
    const kk = key(s, t);
    refKeys.add(kk);
    const m = mine.get(kk);
    if (m === undefined) {
      if (!borderline(s, w)) missing++;
    } else worst = Math.max(worst, Math.abs(m - w));
  }
  for (let e = 0; e < links.source.length; e++) {
    if (
      !refKeys.has(key(links.source[e], links.target[e])) &&
      !borderline(links.source[e], links.weight[e])
    ) extra++;
  }
  assert(missing === 0 && extra === 0, `${missing} reference links missing, ${extra} extra links`);
  assert(worst <= 1e-5, `weights differ by up to ${worst}`);
}
