// The float16 rewrite (lib/onnx/fp16.ts): bit conversion, constant folding, Conv affine
// fusion, and a built model run for real — float32 on onnxruntime's WASM provider against
// float16 on its WebGPU provider (lavapipe here, with shader-f16).

import { GraphBuilder } from "../../lib/onnx/builder.ts";
import { fromHalfBits, toFloat16, toHalfBits } from "../../lib/onnx/fp16.ts";
import { inspectModel } from "../../lib/onnx/prepare.ts";
import { loadOnnxModel } from "../../lib/embed/onnx_runtime.ts";
import { acquireGpu } from "../../lib/gpu/device.ts";
import { loadModelFile } from "../../lib/models.ts";
import { assert, assertEquals } from "../shared.ts";

const gpu = await acquireGpu({ allowSoftware: true });
const f16 = gpu?.device.features.has("shader-f16") ?? false;
gpu?.device.destroy();
if (!f16) console.warn("SKIP: no WebGPU adapter with shader-f16; float16 run ignored");

Deno.test("fp16: bits round to nearest even, clamp to ±65504, and every half survives a round trip", () => {
  assertEquals(toHalfBits(1), 0x3c00);
  assertEquals(toHalfBits(-2), 0xc000);
  assertEquals(toHalfBits(0.1), 0x2e66);
  assertEquals(toHalfBits(65504), 0x7bff);
  assertEquals(toHalfBits(1e6), 0x7bff);
  assertEquals(toHalfBits(-1e6), 0xfbff);
  assertEquals(toHalfBits(2 ** -24), 1); // the smallest subnormal
  assertEquals(toHalfBits(2 ** -26), 0); // below half of it
  assertEquals(toHalfBits(1 + 2 ** -11), 0x3c00); // a tie: to the even neighbour
  assertEquals(toHalfBits(1 + 3 * 2 ** -11), 0x3c02);
  assertEquals(toHalfBits(2047.9), 0x6800); // a carry into the exponent (2048)
  for (let h = 0; h < 0x10000; h++) {
    const v = fromHalfBits(h);
    if (Number.isNaN(v) || !Number.isFinite(v)) continue;
    if (toHalfBits(v) !== h && !(v === 0 && (h & 0x7fff) === 0)) {
      throw new Error(`half ${h.toString(16)} → ${v} → ${toHalfBits(v).toString(16)}`);
    }
  }
});

/** uint8 weights dequantised by Cast → Mul → Add, a Conv with a per-channel Mul and Add
 * after it, a channel Pad and a Relu: the patterns of the shipped models. */
function builtModel(): Uint8Array {
  const g = new GraphBuilder("fp16");
  const x = g.input("x", ["batch", 3, 6, 6]);
  const q = Uint8Array.from({ length: 4 * 3 * 3 * 3 }, (_, i) => (i * 37) % 256);
  const wq = g.node("Cast", [g.constant("wq", [4, 3, 3, 3], q)], { to: { i: 1 } });
  const ws = g.node("Mul", [wq, g.constant("scale", [], new Float32Array([0.004]))]);
  const w = g.node("Add", [ws, g.constant("min", [], new Float32Array([-0.5]))]);
  let y = g.node("Conv", [x, w, g.constant("b", [4], new Float32Array([0.1, -0.2, 0.3, 0]))], {
    pads: { ints: [1, 1, 1, 1] },
  });
  y = g.node("Mul", [y, g.constant("s", [4, 1, 1], new Float32Array([0.5, 2, -1, 1.5]))]);
  y = g.node("Add", [y, g.constant("t", [4, 1, 1], new Float32Array([1, 0, -1, 0.25]))]);
  y = g.node("Pad", [y, g.int64s("pads", [0, 0, 0, 0, 0, 2, 0, 0])]);
  g.output(g.node("Relu", [y], {}, "out"), ["batch", 6, 6, 6]);
  return g.toModel({ opset: 18, producer: "test" });
}

Deno.test("fp16: constants folded, Mul/Add fused into the Conv, Pad kept in float32, float32 at the edges", () => {
  const half = toFloat16(builtModel());
  const info = inspectModel(half.bytes);
  assertEquals(info.ops, { Cast: 4, Conv: 1, Pad: 1, Relu: 1 });
  assertEquals(info.inputs[0].elemType, 1);
  assertEquals(info.outputs[0].elemType, 1);
  assert(half.changes.some((c) => c.startsWith("3 constant nodes folded")), half.changes.join());
  assert(half.changes.some((c) => c.startsWith("1 per-channel")), half.changes.join());
});

Deno.test({
  name: "fp16: the float16 graph on WebGPU gives the float32 graph's values (built model, dlib)",
  ignore: !f16,
  fn: async () => {
    const cases = [
      { bytes: builtModel(), input: "x", output: "out", size: 6, tol: 2e-2 },
      {
        bytes: await loadModelFile("dlib_resnet.onnx"),
        input: "image",
        output: "descriptor",
        size: 150,
        tol: 0,
      },
    ];
    for (const c of cases) {
      const dims = [2, 3, c.size, c.size];
      const x = new Float32Array(2 * 3 * c.size * c.size).map((_, i) => (i * 37) % 255);
      if (c.size === 6) x.forEach((v, i) => x[i] = v / 255 - 0.5);
      const full = await loadOnnxModel(c.bytes, c.input, "wasm");
      const half = await loadOnnxModel(toFloat16(c.bytes).bytes, c.input, "webgpu");
      const a = (await full.run(x, dims))[c.output].data;
      const b = (await half.run(x, dims))[c.output].data;
      await Promise.all([full.release(), half.release()]);
      assertEquals(a.length, b.length);
      if (c.tol) {
        for (let i = 0; i < a.length; i++) {
          assert(Math.abs(a[i] - b[i]) <= c.tol * (1 + Math.abs(a[i])), `${i}: ${a[i]} vs ${b[i]}`);
        }
      } else {
        // descriptors: cosine per row
        const d = a.length / 2;
        for (let r = 0; r < 2; r++) {
          let ab = 0, aa = 0, bb = 0;
          for (let j = 0; j < d; j++) {
            ab += a[r * d + j] * b[r * d + j];
            aa += a[r * d + j] ** 2;
            bb += b[r * d + j] ** 2;
          }
          const cos = ab / Math.sqrt(aa * bb);
          assert(cos > 0.9999, `dlib row ${r}: cosine ${cos}`);
        }
      }
    }
  },
});
