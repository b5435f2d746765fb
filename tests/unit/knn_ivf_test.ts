import { CpuKnn, EXACT_UP_TO } from "../../lib/knn/cpu.ts";
import { IvfKnn } from "../../lib/knn/ivf.ts";
import { linksFromKnn } from "../../lib/knn/links.ts";
import { l2Normalize } from "../../lib/knn/normalize.ts";
import { linkRecall } from "../../lib/knn/recall.ts";
import type { KnnGraph } from "../../lib/knn/types.ts";
import { profileFaces } from "../../bench/synthetic.ts";
import { assertExactKnn, randomRows } from "../knn_helpers.ts";
import { assert, assertEquals } from "../shared.ts";

// MobileFaceNet's cosine statistics on LFW (bench/scale.ts measures them)
const LFW_PROFILE = { sameMean: 0.635, sameStd: 0.156, otherStd: 0.104, source: "lfw1000" };

/** Links of every row as "i j" strings. */
function linkSet(g: KnnGraph, minSim: number): Set<string> {
  const l = linksFromKnn(g, minSim);
  const s = new Set<string>();
  for (let e = 0; e < l.source.length; e++) s.add(`${l.source[e]} ${l.target[e]}`);
  return s;
}

Deno.test("knn ivf: every row probing every list is exact", async () => {
  const m = l2Normalize(randomRows(600, 16, 3), "rows");
  const g = await new IvfKnn({ workers: 0, lists: 8, probes: 8 }).search(m, 10);
  assert(g.approximate);
  assertExactKnn(g, m, 10);
});

Deno.test("knn ivf: min_sim leaves out only the neighbours below it", async () => {
  const m = l2Normalize(randomRows(500, 4, 8), "rows");
  const exact = await new CpuKnn({ workers: 0, method: "exact" }).search(m, 20);
  const g = await new IvfKnn({ workers: 0, lists: 6, probes: 6 }).search(m, 20, { minSim: 0.6 });
  for (let i = 0; i < 500; i++) {
    for (let t = 0; t < 20; t++) {
      const s = g.similarities[i * 20 + t];
      if (g.indices[i * 20 + t] >= 0) assert(s >= 0.6 - 1e-6, `row ${i} holds ${s}`);
    }
  }
  assertEquals(linkSet(g, 0.6), linkSet(exact, 0.6));
});

Deno.test("knn ivf: ≥ 0.99 of the links on 30k faces of the LFW profile; the sample's recall is close to the whole", async () => {
  const { features } = profileFaces(30_000, 64, LFW_PROFILE, { seed: 5 });
  const m = l2Normalize(features, "faces");
  const exact = linkSet(await new CpuKnn({ method: "exact" }).search(m, 40), 0.5);
  const ivf = new IvfKnn({ workers: 2 });
  const g = await ivf.search(m, 40, { minSim: 0.5 });
  const got = linkSet(g, 0.5);
  let found = 0;
  for (const e of exact) if (got.has(e)) found++;
  const whole = found / exact.size;
  assert(whole >= 0.99, `recall ${whole}`);
  // a link exact search does not have (a row with more than k links may keep others of
  // them) is still a true one: its similarity is the rows' product, at or above min_sim
  for (const e of got) {
    if (exact.has(e)) continue;
    const [i, j] = e.split(" ").map(Number);
    let dot = 0;
    for (let x = 0; x < 64; x++) dot += m.data[i * 64 + x] * m.data[j * 64 + x];
    assert(dot >= 0.5 - 1e-5, `link ${e} at ${dot}`);
  }
  const sample = await linkRecall(m, g, 0.5, { sample: 2000 });
  assert(Math.abs(sample.recall - whole) < 0.01, `sample ${sample.recall}, whole ${whole}`);
  assertEquals(sample.rows, 2000);
  assert(ivf.name.includes("ivf") && ivf.layout!.lists > 1, ivf.name);
  // the same search on the calling thread finds the same links
  const inline = linkSet(await new IvfKnn({ workers: 0 }).search(m, 40, { minSim: 0.5 }), 0.5);
  assertEquals(inline.size, got.size);
});

Deno.test("knn cpu: auto searches exactly up to EXACT_UP_TO rows and by IVF above", async () => {
  const knn = new CpuKnn({ workers: 2 });
  const small = await knn.search(l2Normalize(randomRows(1000, 8, 2), "rows"), 5);
  assert(!small.approximate && !knn.name.includes("ivf"), knn.name);
  const big = await knn.search(l2Normalize(randomRows(EXACT_UP_TO + 1, 8, 3), "rows"), 5);
  assert(big.approximate && knn.name.includes("ivf"), knn.name);
});

Deno.test("knn recall: counts the exact links the lists miss", async () => {
  const m = { rows: 3, cols: 2, data: new Float32Array([1, 0, 0.8, 0.6, 0.6, 0.8]) };
  // row 0 misses row 2 (0.6 ≥ 0.5); rows 1 and 2 are complete
  const g: KnnGraph = {
    n: 3,
    k: 3,
    indices: new Int32Array([0, 1, -1, 1, 2, 0, 2, 1, 0]),
    similarities: new Float32Array([1, 0.8, -Infinity, 1, 0.96, 0.8, 1, 0.96, 0.6]),
  };
  const r = await linkRecall(m, g, 0.5, { workers: 0 });
  assertEquals([r.rows, r.exactLinks, r.found], [3, 6, 5]);
});

Deno.test("knn ivf: abort stops the search", async () => {
  const ac = new AbortController();
  const p = new IvfKnn({ workers: 2 }).search(randomRows(30_000, 32, 1), 5, { signal: ac.signal });
  ac.abort();
  let threw = false;
  try {
    await p;
  } catch (e) {
    threw = (e as Error).name === "AbortError";
  }
  assert(threw, "search was not aborted");
});
