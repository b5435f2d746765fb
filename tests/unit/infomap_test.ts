import { infomap } from "../../lib/infomap/infomap.ts";
import { buildFlowGraph } from "../../lib/infomap/flow_graph.ts";
import { InputError } from "../../lib/errors.ts";
import { assert, assertClose, assertEquals, hasShared, readLinkList, SHARED } from "../shared.ts";

const CASES = ["two_triangles", "karate", "clique_ring", "faces_h10k"];
const haveRef = hasShared("reference/infomap");

for (const name of CASES) {
  for (const directed of [true, false]) {
    const key = directed ? "directed" : "undirected";
    Deno.test({
      name: `infomap: ${name} ${key} within 0.5% of the reference codelength`,
      ignore: !haveRef,
      fn: async () => {
        const links = await readLinkList(`${SHARED}reference/infomap/${name}.txt`);
        const ref = JSON.parse(
          await Deno.readTextFile(`${SHARED}reference/infomap/${name}.json`),
        )[key];
        const r = infomap(links, { directed });
        assertClose(r.oneLevelCodelength, ref.one_level_codelength, 1e-4, "one-level codelength");
        assert(
          r.codelength <= ref.codelength * 1.005,
          `codelength ${r.codelength} more than 0.5% above the reference ${ref.codelength}`,
        );
        const tol = Math.max(1, Math.round(0.05 * ref.top_modules));
        assert(
          Math.abs(r.numModules - ref.top_modules) <= tol,
          `${r.numModules} top modules, reference ${ref.top_modules}`,
        );
        // the codelength reported is the codelength of the partition returned
        assert(r.modules.length === r.nodeIds.length);
      },
    });
  }
}

Deno.test("infomap: two triangles joined by a weak link split in two (undirected)", () => {
  const r = infomap({
    source: [0, 1, 2, 3, 4, 5, 2],
    target: [1, 2, 0, 4, 5, 3, 3],
    weight: [1, 1, 1, 1, 1, 1, 0.1],
  }, { directed: false });
  assertEquals(r.numModules, 2);
  assertEquals(Array.from(r.modules.slice(0, 3)).every((m) => m === r.modules[0]), true);
  assert(r.modules[0] !== r.modules[3]);
  assert(r.codelength < r.oneLevelCodelength);
});

Deno.test("infomap: flow sums to 1 and enter equals exit when undirected", () => {
  const { graph } = buildFlowGraph({ source: [0, 1, 2], target: [1, 2, 0], weight: [1, 2, 3] }, {
    directed: false,
  });
  assertClose(graph.flow.reduce((a, b) => a + b, 0), 1, 1e-12);
  for (let i = 0; i < graph.n; i++) assertClose(graph.enter[i], graph.exit[i], 1e-12);
});

Deno.test("infomap: directed flow is PageRank with teleportation to links", () => {
  // a directed 3-cycle: every node has flow 1/3
  const { graph } = buildFlowGraph({ source: [0, 1, 2], target: [1, 2, 0], weight: [1, 1, 1] });
  for (let i = 0; i < 3; i++) assertClose(graph.flow[i], 1 / 3, 1e-12);
});

Deno.test("infomap: node ids are kept, modules ordered by flow, seed reproducible", () => {
  const links = {
    source: [10, 11, 12, 20, 21, 22, 23],
    target: [11, 12, 10, 21, 22, 23, 20],
    weight: [1, 1, 1, 1, 1, 1, 1],
  };
  const a = infomap(links, { directed: false, seed: 7 });
  const b = infomap(links, { directed: false, seed: 7 });
  assertEquals(Array.from(a.nodeIds), [10, 11, 12, 20, 21, 22, 23]);
  assertEquals(Array.from(a.modules), Array.from(b.modules));
  assertEquals(a.modules[3], 0); // the 4-cycle has more flow
  for (let m = 1; m < a.numModules; m++) assert(a.moduleFlow[m - 1] >= a.moduleFlow[m]);
});

Deno.test("infomap: bad links are refused", () => {
  for (
    const bad of [
      { source: [-1], target: [0], weight: [1] },
      { source: [0.5], target: [0], weight: [1] },
      { source: [0], target: [1], weight: [NaN] },
      { source: [0], target: [1], weight: [-2] },
    ]
  ) {
    let threw = false;
    try {
      infomap(bad);
    } catch (e) {
      threw = e instanceof InputError;
    }
    assert(threw, `accepted ${JSON.stringify(bad)}`);
  }
});
