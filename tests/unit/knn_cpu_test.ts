import { CpuKnn } from "../../lib/knn/cpu.ts";
import { linksFromKnn } from "../../lib/knn/links.ts";
import { assertExactKnn, randomRows } from "../knn_helpers.ts";
import { assert, assertEquals } from "../shared.ts";

const shapes: [number, number, number][] = [
  // n, d, k: n not a multiple of the blocks, n < k, D = 1, 128, 512, 513
  [37, 1, 5],
  [10, 3, 16],
  [301, 128, 20],
  [130, 512, 80],
  [67, 513, 7],
];

for (const [n, d, k] of shapes) {
  Deno.test(`knn cpu: exact on n=${n} d=${d} k=${k}`, async () => {
    const m = randomRows(n, d, n * 31 + d, 5);
    assertExactKnn(await new CpuKnn({ workers: 0 }).search(m, k), m, k);
  });
}

Deno.test("knn cpu: symmetric workers, row-range workers and inline agree exactly", async () => {
  const m = randomRows(2000, 64, 5, 40);
  const inline = await new CpuKnn({ workers: 0 }).search(m, 12);
  // 2000² × 64 is above the inline threshold, so workers run
  const symmetric = await new CpuKnn({ workers: 3 }).search(m, 12);
  // no heap budget: the row-range path, 7-row jobs make many chunks
  const rows = await new CpuKnn({ workers: 3, chunkRows: 7, heapBudgetBytes: 0 }).search(m, 12);
  assertExactKnn(inline, m, 12);
  for (const g of [symmetric, rows]) {
    assertEquals(Array.from(g.similarities), Array.from(inline.similarities));
    assertEquals(Array.from(g.indices), Array.from(inline.indices));
  }
});

Deno.test("knn cpu: duplicate rows are found at similarity 1", async () => {
  const m = randomRows(50, 16, 9);
  m.data.copyWithin(16 * 20, 16 * 3, 16 * 4); // row 20 = row 3
  const g = await new CpuKnn({ workers: 0 }).search(m, 3);
  const top = [g.indices[3 * 3], g.indices[3 * 3 + 1]].sort((a, b) => a - b);
  assertEquals(top, [3, 20]);
});

Deno.test("knn cpu: abort stops the search", async () => {
  const m = randomRows(3000, 128, 1);
  const ac = new AbortController();
  const p = new CpuKnn({ workers: 2, chunkRows: 16 }).search(m, 10, { signal: ac.signal });
  ac.abort();
  let threw = false;
  try {
    await p;
  } catch {
    threw = true;
  }
  assert(threw, "search was not aborted");
});

Deno.test("links: the seed's rule skips self and stops at the first below min_sim", () => {
  const l = linksFromKnn({
    n: 2,
    k: 4,
    indices: new Int32Array([0, 1, 1, -1, 1, 0, 0, 0]),
    similarities: new Float32Array([1, 0.8, 0.4, -Infinity, 1, 0.3, 0.9, 0.9]),
  }, 0.5);
  assertEquals(Array.from(l.source), [0]);
  assertEquals(Array.from(l.target), [1]);
});

Deno.test("knn cpu: workers still start after an onnxruntime-web session replaced globalThis.Worker", async () => {
  const { loadOnnxModel } = await import("../../lib/embed/onnx_runtime.ts");
  const { loadModelFile } = await import("../../lib/models.ts");
  const session = await loadOnnxModel(await loadModelFile("face_landmark_68.onnx"), "image");
  const m = randomRows(3000, 64, 21);
  const g = await new CpuKnn({ workers: 2 }).search(m, 5);
  await session.release();
  assertEquals(
    Array.from(g.indices.subarray(0, 5 * 50)),
    Array.from((await new CpuKnn({ workers: 0 }).search(m, 5)).indices.subarray(0, 5 * 50)),
  );
});
