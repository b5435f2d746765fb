// Verification metrics (lib/metrics/verification.ts) against a brute-force count.

import { verification } from "../../lib/metrics/verification.ts";
import { Prng } from "../../lib/infomap/prng.ts";
import { assert, assertClose, assertEquals } from "../shared.ts";

Deno.test("verification: AUC and TAR@FAR equal a brute-force count on random labeled vectors", () => {
  const prng = new Prng(7), rand = () => prng.next();
  const n = 300, dims = 8;
  const labels = Array.from({ length: n }, (_, i) => `p${i % 12}`);
  const centre = Array.from({ length: 12 }, () => Array.from({ length: dims }, () => rand() - 0.5));
  const v = new Float32Array(n * dims);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dims; j++) {
      v[i * dims + j] = centre[i % 12][j] + (rand() - 0.5) * 0.6;
      s += v[i * dims + j] ** 2;
    }
    for (let j = 0; j < dims; j++) v[i * dims + j] /= Math.sqrt(s);
  }
  const r = verification(v, dims, labels, [1e-2, 1e-3]);
  const same: number[] = [], diff: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let d = 0;
      for (let t = 0; t < dims; t++) d += v[i * dims + t] * v[j * dims + t];
      (labels[i] === labels[j] ? same : diff).push(Math.fround(d));
    }
  }
  assertEquals([r.samePairs, r.differentPairs], [same.length, diff.length]);
  let wins = 0;
  for (const s of same) for (const d of diff) wins += s > d ? 1 : s === d ? 0.5 : 0;
  assertClose(r.auc, wins / same.length / diff.length, 1e-9);
  assert(r.auc > 0.8 && r.auc < 1, `auc ${r.auc}`);
  for (const t of r.tar) {
    const falseAccepts = diff.filter((d) => d > t.threshold).length;
    assert(falseAccepts <= t.far * diff.length, `FAR ${falseAccepts / diff.length} > ${t.far}`);
    assertClose(t.tar, same.filter((s) => s > t.threshold).length / same.length, 1e-12);
  }
});
