import { evaluate } from "../../lib/metrics/metrics.ts";
import { assertClose, assertEquals } from "../shared.ts";

Deno.test("metrics: perfect clustering with string labels", () => {
  const m = evaluate(["ann", "ann", "bob", "cy", "cy", "cy"], [7, 7, 3, 1, 1, 1]);
  assertEquals(m, {
    pairwise: { precision: 1, recall: 1, f: 1 },
    bcubed: { precision: 1, recall: 1, f: 1 },
    nmi: 1,
  });
});

Deno.test("metrics: one predicted cluster", () => {
  // truth a a b b; all in one cluster. Σn_ij² = 8, N = 4, Σ|pred|² = 16, Σ|gt|² = 8
  const m = evaluate(["a", "a", "b", "b"], [0, 0, 0, 0]);
  assertClose(m.pairwise.precision, (8 - 4) / (16 - 4), 1e-12);
  assertEquals(m.pairwise.recall, 1);
  assertClose(m.pairwise.f, 2 * (1 / 3) / (1 / 3 + 1), 1e-12);
  assertClose(m.bcubed.precision, (4 / 4 + 4 / 4) / 4, 1e-12); // Σ n²/|pred| = 2+2 over 4 → 0.5
  assertEquals(m.bcubed.recall, 1);
  assertEquals(m.nmi, 0);
});

Deno.test("metrics: all singletons", () => {
  const m = evaluate(["a", "a", "b", "b"], [0, 1, 2, 3]);
  assertEquals(m.pairwise.precision, 1); // no predicted pairs: none wrong
  assertEquals(m.pairwise.recall, 0);
  assertEquals(m.pairwise.f, 0);
  assertEquals(m.bcubed.precision, 1);
  assertClose(m.bcubed.recall, 0.5, 1e-12);
  // NMI: I = H(gt) = ln 2, H(pred) = ln 4, mean = 1.5 ln 2 → 2/3
  assertClose(m.nmi, 2 / 3, 1e-12);
});

Deno.test("metrics: a mixed case computed by hand", () => {
  // truth: x x x y y ; pred: 0 0 1 1 1
  // cells: (x,0)=2 (x,1)=1 (y,1)=2; Σn² = 9; N = 5; Σ|pred|² = 4+9 = 13; Σ|gt|² = 9+4 = 13
  const m = evaluate(["x", "x", "x", "y", "y"], [0, 0, 1, 1, 1]);
  assertClose(m.pairwise.precision, 4 / 8, 1e-12);
  assertClose(m.pairwise.recall, 4 / 8, 1e-12);
  // BCubed P = (4/2 + 1/3 + 4/3)/5 = 11/15; R = (4/3 + 1/3 + 4/2)/5 = 11/15
  assertClose(m.bcubed.precision, 11 / 15, 1e-12);
  assertClose(m.bcubed.recall, 11 / 15, 1e-12);
  const h = -(0.6 * Math.log(0.6) + 0.4 * Math.log(0.4));
  const mi = 0.4 * Math.log(0.4 / (0.6 * 0.4)) + 0.2 * Math.log(0.2 / (0.6 * 0.6)) +
    0.4 * Math.log(0.4 / (0.4 * 0.6));
  assertClose(m.nmi, mi / h, 1e-12);
});
