// Rewriting upstream ONNX exports with our own reader/writer (lib/onnx/prepare.ts), run for
// real through onnxruntime-web: external data inlined, a pinned batch unpinned, normalisation
// folded in; and `--model PATH.onnx` (lib/embed/model_file.ts).

import { GraphBuilder } from "../../lib/onnx/builder.ts";
import { decodeFields, encodeFields, fieldText, type ProtoField } from "../../lib/onnx/reader.ts";
import { inspectModel, prepareModel } from "../../lib/onnx/prepare.ts";
import { loadOnnxModel } from "../../lib/embed/onnx_runtime.ts";
import { modelFromFile } from "../../lib/embed/model_file.ts";
import { FaceEmbedder } from "../../lib/embed/embedder.ts";
import { MOBILEFACENET } from "../../lib/embed/models.ts";
import { InputError } from "../../lib/errors.ts";
import {
  assert,
  assertClose,
  assertEquals,
  assertRejectsInput,
  hasShared,
  SHARED,
} from "../shared.ts";

const MFN = `${SHARED}models/mobilefacenet_foamliu/`;
const NORM = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** A 1×1 conv over 3 channels to 2, then Reshape to the constant [1, −1]: batch pinned to 1. */
function pinnedModel(): { bytes: Uint8Array; w: Float32Array; b: Float32Array } {
  const g = new GraphBuilder("pinned");
  const x = g.input("x", [1, 3, 2, 2]);
  const w = new Float32Array([0.5, -1, 2, 1.5, 0.25, -0.75]);
  const b = new Float32Array([0.1, -0.2]);
  const y = g.node("Conv", [x, g.constant("w", [2, 3, 1, 1], w), g.constant("b", [2], b)]);
  g.output(g.node("Reshape", [y, g.int64s("shape", [1, -1])], {}, "out"), [1, 8]);
  return { bytes: g.toModel({ opset: 13, producer: "test" }), w, b };
}

/** Moves initializer `name`'s raw data to an external file `file` (as exporters do). */
function externalize(bytes: Uint8Array, name: string, file: string): [Uint8Array, Uint8Array] {
  let data = new Uint8Array();
  const edit = (fields: ProtoField[], fn: (f: ProtoField) => ProtoField): ProtoField[] =>
    fields.map(fn);
  const model = edit(decodeFields(bytes), (mf) => {
    if (mf.field !== 7) return mf;
    const graph = edit(decodeFields(mf.bytes!), (gf) => {
      if (gf.field !== 5) return gf;
      const t = decodeFields(gf.bytes!);
      if (fieldText(t.find((f) => f.field === 8)!) !== name) return gf;
      data = t.find((f) => f.field === 9)!.bytes!.slice();
      const entry = (k: string, v: string) => ({
        field: 13,
        wire: 2 as const,
        bytes: encodeFields([
          { field: 1, wire: 2, bytes: new TextEncoder().encode(k) },
          { field: 2, wire: 2, bytes: new TextEncoder().encode(v) },
        ]),
      });
      const kept = t.filter((f) => f.field !== 9);
      kept.push(entry("location", file), entry("offset", "0"), entry("length", `${data.length}`));
      kept.push({ field: 14, wire: 0, int: 1n });
      return { ...gf, bytes: encodeFields(kept) };
    });
    return { ...mf, bytes: encodeFields(graph) };
  });
  return [encodeFields(model), data];
}

Deno.test("protobuf reader: decode then encode gives the same bytes (a whole ONNX model)", () => {
  const { bytes } = pinnedModel();
  assertEquals([...encodeFields(decodeFields(bytes))], [...bytes]);
  let threw = false;
  try {
    decodeFields(new Uint8Array([10, 50, 1]));
  } catch {
    threw = true;
  }
  assert(threw, "a length past the end is an error");
});

Deno.test("prepareModel: external data inlined, batch unpinned, normalisation folded (run in onnxruntime)", async () => {
  const { bytes, w, b } = pinnedModel();
  const [external, data] = externalize(bytes, "w", "weights.bin");
  assertEquals(inspectModel(external).externalFiles, ["weights.bin"]);
  let threw = "";
  try {
    prepareModel(external);
  } catch (e) {
    threw = (e as Error).message;
  }
  assert(threw.includes("weights.bin"), threw);
  const p = prepareModel(external, { externalData: { "weights.bin": data }, normalize: NORM });
  assertEquals(p.input, "image");
  assert(p.changes.some((c) => c.startsWith("inlined 1")), p.changes.join("; "));
  assert(p.changes.some((c) => c.includes("[1,-1] → [0,-1]")), p.changes.join("; "));
  const info = inspectModel(p.bytes);
  assertEquals(info.inputs, [{ name: "image", elemType: 1, shape: ["batch", 3, 2, 2] }]);
  assertEquals(info.outputs[0].shape, ["batch", 8]);
  assertEquals(info.externalFiles, []);
  // batch 3 of RGB 0..255 against the conv computed here on normalised input
  const m = await loadOnnxModel(p.bytes, p.input);
  const raw = Float32Array.from({ length: 3 * 12 }, (_, i) => (i * 37) % 256);
  const out = (await m.run(raw, [3, 3, 2, 2])).out;
  assertEquals(out.dims, [3, 8]);
  for (let n = 0; n < 3; n++) {
    for (let o = 0; o < 2; o++) {
      for (let p2 = 0; p2 < 4; p2++) {
        let v = b[o];
        for (let c = 0; c < 3; c++) {
          const x = (raw[n * 12 + c * 4 + p2] / 255 - NORM.mean[c]) / NORM.std[c];
          v += w[o * 3 + c] * x;
        }
        assertClose(out.data[n * 8 + o * 4 + p2], v, 1e-4);
      }
    }
  }
  await m.release();
});

Deno.test({
  name: "prepareModel on MobileFaceNet: batch of 4 = four runs of the upstream export (|Δ| < 1e-4)",
  ignore: !hasShared("models/mobilefacenet_foamliu/MobileFaceNet.onnx"),
  async fn() {
    const bytes = await Deno.readFile(`${MFN}MobileFaceNet.onnx`);
    assertEquals(inspectModel(bytes).inputs[0].shape, [1, 3, 112, 112]);
    const p = prepareModel(bytes, { normalize: NORM });
    const prepared = await loadOnnxModel(p.bytes, p.input);
    const upstream = await loadOnnxModel(bytes, "input0");
    const plane = 112 * 112;
    const raw = Float32Array.from(
      { length: 4 * 3 * plane },
      (_, i) => (Math.sin(i * 0.37) + 1) * 127.5,
    );
    const out = (await prepared.run(raw, [4, 3, 112, 112])).output0;
    let maxd = 0;
    for (let k = 0; k < 4; k++) {
      const x = new Float32Array(3 * plane);
      for (let c = 0; c < 3; c++) {
        for (let q = 0; q < plane; q++) {
          x[c * plane + q] = (raw[(k * 3 + c) * plane + q] / 255 - NORM.mean[c]) / NORM.std[c];
        }
      }
      const o = (await upstream.run(x, [1, 3, 112, 112])).output0.data;
      for (let j = 0; j < 128; j++) maxd = Math.max(maxd, Math.abs(o[j] - out.data[k * 128 + j]));
    }
    assert(maxd < 1e-4, `max |Δ| ${maxd}`);
    await Promise.all([prepared.release(), upstream.release()]);
  },
});

Deno.test({
  name: "--model PATH.onnx: MobileFaceNet by path + sidecar embeds like the registry entry",
  ignore: !hasShared("models/mobilefacenet_foamliu/MobileFaceNet.onnx"),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.copyFile(`${MFN}MobileFaceNet.onnx`, `${dir}/mfn.onnx`);
      await Deno.writeTextFile(
        `${dir}/mfn.json`,
        JSON.stringify({ name: "mine", ...NORM, minSim: 0.45 }),
      );
      const m = await modelFromFile(`${dir}/mfn.onnx`);
      assertEquals([m.name, m.size, m.dims, m.output, m.minSim], [
        "mine",
        112,
        128,
        "output0",
        0.45,
      ]);
      assertEquals(m.sha256, MOBILEFACENET.sha256);
      // the registry entry, served from a cache holding the shared files
      const cache = `${dir}/cache`;
      await Deno.mkdir(cache);
      for (const f of MOBILEFACENET.remote!) {
        await Deno.copyFile(MFN + f.name, `${cache}/${f.name}`);
      }
      const a = await FaceEmbedder.load(m, { batch: 4 });
      const b = await FaceEmbedder.load(MOBILEFACENET, { cacheDir: cache, batch: 1 });
      const chips = [0, 1, 2].map((s) => ({
        width: 112,
        height: 112,
        data: Uint8Array.from({ length: 112 * 112 * 3 }, (_, i) => (i * (7 + s)) % 251),
      }));
      const va = await a.embedChips(chips), vb = await b.embedChips(chips);
      for (let i = 0; i < va.length; i++) assertClose(va[i], vb[i], 1e-4);
      await Promise.all([a.release(), b.release()]);
      // bad sidecar, not a model, wrong input shape: errors naming the file
      await Deno.writeTextFile(`${dir}/mfn.json`, JSON.stringify({ std: [0, 1, 1] }));
      await assertRejectsInput(modelFromFile(`${dir}/mfn.onnx`), "mfn.json: std must be positive");
      await Deno.writeTextFile(`${dir}/bad.onnx`, "hello");
      await assertRejectsInput(modelFromFile(`${dir}/bad.onnx`), "bad.onnx: not an ONNX model");
      const g = new GraphBuilder("gray");
      g.output(g.node("Relu", [g.input("x", [1, 1, 4, 4])]), [1, 1, 4, 4]);
      await Deno.writeFile(`${dir}/gray.onnx`, g.toModel({ opset: 13, producer: "test" }));
      await assertRejectsInput(modelFromFile(`${dir}/gray.onnx`), "expected [N, 3, S, S]");
      const e = await modelFromFile(`${dir}/nothing.onnx`).catch((e) => e);
      assert(e instanceof InputError && e.message.includes("nothing.onnx"), String(e));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("flip: mirrored embedding is invariant to mirroring the chip", async () => {
  const emb = await FaceEmbedder.load(undefined, { flip: true });
  const size = emb.model.size;
  const chip = {
    width: size,
    height: size,
    data: Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * 13 + (i >> 7)) % 256),
  };
  const mirror = { ...chip, data: new Uint8Array(chip.data.length) };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        mirror.data[(y * size + x) * 3 + c] = chip.data[(y * size + size - 1 - x) * 3 + c];
      }
    }
  }
  const [a, b] = [await emb.embedChips([chip]), await emb.embedChips([mirror])];
  for (let i = 0; i < a.length; i++) assertClose(a[i], b[i], 1e-5);
  await emb.release();
});
