// The GPU-resident embedding path (lib/embed/gpu_embedder.ts) on a real WebGPU adapter
// (lavapipe here): chips uploaded as bytes, laid out and mirrored by face_input.wgsl,
// onnxruntime-web's WebGPU provider bound to GPU buffers, rows normalised by
// embed_normalize.wgsl; compared with the CPU path (WASM: onnxruntime-node may be loaded in
// only one isolate of the test process) on the shipped dlib model.

import { alignFace } from "../../lib/align/align.ts";
import { fivePoints } from "../../lib/align/templates.ts";
import { FaceEmbedder } from "../../lib/embed/embedder.ts";
import { GpuEmbedder } from "../../lib/embed/gpu_embedder.ts";
import { DLIB_RESNET } from "../../lib/embed/models.ts";
import { acquireGpu } from "../../lib/gpu/device.ts";
import type { RgbImage } from "../../lib/image/types.ts";
import { syntheticLandmarks } from "../../bench/synthetic.ts";
import { assert, assertEquals, hasShared, runEvaluate, SHARED } from "../shared.ts";

const gpu = await acquireGpu({ allowSoftware: true });
const f16 = gpu?.device.features.has("shader-f16") ?? false;
gpu?.device.destroy();
if (!gpu) {
  console.warn("SKIP: no WebGPU adapter (install mesa-vulkan-drivers); GPU embedder ignored");
}

const m = DLIB_RESNET;
let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
// five chips of smooth random patterns: distinct embeddings, a batch of 4 leaves one over
const chips: RgbImage[] = Array.from({ length: 5 }, () => {
  const base = [rnd(), rnd(), rnd()], fx = rnd() / 2000, fy = rnd() / 2000;
  return {
    width: m.size,
    height: m.size,
    data: Uint8Array.from({ length: m.size * m.size * 3 }, (_, j) => {
      const p = Math.floor(j / 3), x = p % m.size, y = Math.floor(p / m.size);
      return (base[j % 3] + 80 * Math.sin(x * fx + y * fy + (j % 3))) & 255;
    }),
  };
});

function worstCosine(a: Float32Array, b: Float32Array, dims: number): number {
  assertEquals(a.length, b.length);
  let worst = 1;
  for (let i = 0; i < a.length / dims; i++) {
    let d = 0;
    for (let j = 0; j < dims; j++) d += a[i * dims + j] * b[i * dims + j];
    worst = Math.min(worst, d);
  }
  return worst;
}

async function cpu(flip: boolean): Promise<Float32Array> {
  const e = await FaceEmbedder.load(m, { device: "wasm", flip });
  try {
    return await e.embedChips(chips);
  } finally {
    await e.release();
  }
}

Deno.test({
  name: "gpu embedder: GPU-resident path (fp32, flip, graph capture, fp16) matches the CPU path",
  ignore: !gpu,
  fn: async () => {
    const plain = await cpu(false), flipped = await cpu(true);
    // distinct chips give distinct embeddings (so a stale or shifted row would show)
    const shifted = new Float32Array(plain.length);
    shifted.set(plain.subarray(m.dims));
    shifted.set(plain.subarray(0, m.dims), plain.length - m.dims);
    const nearest = worstCosine(plain, shifted, m.dims);
    assert(nearest < 0.99, `chips too alike: ${nearest}`);
    const cases = [
      { opts: {}, ref: plain, min: 0.99999 },
      { opts: { flip: true }, ref: flipped, min: 0.99999 },
      { opts: { graphCapture: true }, ref: plain, min: 0.99999 },
      ...(f16 ? [{ opts: { fp16: true }, ref: plain, min: 0.999 }] : []),
    ];
    for (const c of cases) {
      const e = await GpuEmbedder.load(m, { batch: 4, ...c.opts });
      try {
        const v = await e.embedChips(chips);
        const again = await e.embedChips(chips.slice(0, 2)); // a second call reuses the buffers
        const w = worstCosine(v, c.ref, m.dims);
        assert(w > c.min, `${JSON.stringify(c.opts)}: worst cosine ${w}`);
        assert(worstCosine(again, v.slice(0, 2 * m.dims), m.dims) > 0.99999);
        if (c.opts.fp16) assert(e.fp16);
      } finally {
        await e.release();
      }
    }
  },
});

Deno.test({
  name:
    "gpu embedder: FaceEmbedder on webgpu runs the GPU-resident path; a wrong chip size names the chip",
  ignore: !gpu,
  fn: async () => {
    const e = await FaceEmbedder.load(m, { device: "webgpu", batch: 4 });
    try {
      const v = await e.embedChips(chips.slice(0, 3));
      assert(worstCosine(v, (await cpu(false)).slice(0, 3 * m.dims), m.dims) > 0.99999);
      const bad = { width: 10, height: 10, data: new Uint8Array(300) };
      let msg = "";
      await e.embedChips([chips[0], bad]).catch((err) => msg = String(err));
      assert(msg.includes("chip 1 is 10×10"), msg);
    } finally {
      await e.release();
    }
  },
});

Deno.test({
  name:
    "gpu embedder: the CLI with --device gpu (every model on WebGPU) clusters bbt photos like the CPU",
  ignore: !gpu || !hasShared("faces/bbt_faceapi"),
  fn: async () => {
    // two photos each of two people, read in place through a folder of links
    const dir = await Deno.makeTempDir();
    try {
      for (const person of ["amy", "howard"]) {
        await Deno.mkdir(`${dir}/in/${person}`, { recursive: true });
        const src = `${SHARED}faces/bbt_faceapi/${person}`;
        const files = [...Deno.readDirSync(src)].map((e) => e.name).sort().slice(0, 2);
        for (const f of files) await Deno.symlink(`${src}/${f}`, `${dir}/in/${person}/${f}`);
      }
      const r = await runEvaluate(`${dir}/in`, `${dir}/out`, ["--device", "gpu", "--quiet"]);
      assertEquals(r.json.inference, "webgpu");
      assertEquals(r.json.faces, 4);
      assertEquals(r.json.metrics.bcubed.f, 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "gpu embedder: faces cut from the photo on the GPU give the CPU-cut chips' embeddings (a face over the edge, flip)",
  ignore: !gpu,
  fn: async () => {
    const W = 220, H = 170;
    const photo: RgbImage = {
      width: W,
      height: H,
      data: Uint8Array.from({ length: W * H * 3 }, (_, j) => {
        const p = Math.floor(j / 3), x = p % W, y = Math.floor(p / W);
        return (128 + 90 * Math.sin(x / 9 + (j % 3)) * Math.cos(y / 13)) & 255;
      }),
    };
    const faces = [
      syntheticLandmarks(70, 70, 1, 0.1),
      syntheticLandmarks(150, 90, 1.3, -0.2),
      syntheticLandmarks(205, 40, 0.9, 0.4), // over the right edge
    ];
    for (const flip of [false, true]) {
      const e = await GpuEmbedder.load(m, { batch: 4, flip });
      try {
        const cpuChips = faces.map((lm) => alignFace(photo, fivePoints(lm), m.template, m.size));
        const a = await e.embedChips(cpuChips);
        const b = await e.embedFaces(photo, faces);
        const w = worstCosine(a, b, m.dims);
        assert(w > 0.9999, `flip ${flip}: worst cosine ${w}`);
        console.log(`flip ${flip}: worst cosine GPU-cut vs CPU-cut ${w.toFixed(7)}`);
        assertEquals((await e.embedFaces(photo, [])).length, 0);
      } finally {
        await e.release();
      }
    }
  },
});
