import { buildDlibOnnx, loadDlibWeights } from "../../tools/convert_dlib.ts";
import { buildLandmarkOnnx } from "../../tools/convert_landmarks.ts";
import { buildSsdOnnx } from "../../tools/convert_ssd.ts";
import { loadFaceApiWeights } from "../../tools/faceapi_weights.ts";
import { encodeNpy, readNpy } from "../../lib/io/npy.ts";
import { loadOnnxModel } from "../../lib/embed/onnx_runtime.ts";
import { decodeImage } from "../../lib/image/decode.ts";
import { resizeBilinear } from "../../lib/image/transform.ts";
import { assert, hasShared, SHARED } from "../shared.ts";

/** The converted models, how to rebuild them, and how to compare them with face-api. */
const MODELS = {
  recognition: {
    file: "dlib_resnet.onnx",
    build: async () => buildDlibOnnx(await loadDlibWeights()),
    size: 150,
    outputs: ["descriptor"],
    maxBytes: 7_000_000,
  },
  landmarks: {
    file: "face_landmark_68.onnx",
    build: async () => buildLandmarkOnnx(await loadFaceApiWeights("face_landmark_68_model")),
    size: 112,
    outputs: ["landmarks"],
    maxBytes: 450_000,
  },
  ssd: {
    file: "ssd_mobilenetv1.onnx",
    build: async () => buildSsdOnnx(await loadFaceApiWeights("ssd_mobilenetv1_model")),
    size: 512,
    outputs: ["boxes", "scores"],
    maxBytes: 6_500_000,
  },
} as const;

type Net = keyof typeof MODELS;

/** Crops drawn in code: smooth colour fields with a face-like blob, deterministic. */
function drawnCrops(n: number, S: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = 0; k < n; k++) {
    const img = new Uint8Array(S * S * 3);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const r = Math.hypot(x - S / 2 - 3 * k, y - S * 0.47) / (S / 3);
        const blob = r < 1 ? 1 - r * r : 0;
        const o = (y * S + x) * 3;
        img[o] = 60 + 150 * blob + 20 * Math.sin((x + k * 13) / 9);
        img[o + 1] = 40 + 110 * blob + 20 * Math.cos((y - k * 7) / 11);
        img[o + 2] = 30 + 90 * blob + 10 * Math.sin((x + y) / 15);
      }
    }
    out.push(img);
  }
  return out;
}

async function realCrops(S: number): Promise<Uint8Array[]> {
  const crops: Uint8Array[] = [];
  const paths = S >= 512
    ? ["2007_007763.jpg", "2008_001322.jpg"].map((f) => `${SHARED}faces/group_photos/${f}`)
    : ["amy", "penny", "sheldon"].map((p) => `${SHARED}faces/bbt_faceapi/${p}/${p}1.png`);
  for (const path of paths) {
    let img = await decodeImage(await Deno.readFile(path), path);
    if (img.width !== S || img.height !== S) img = resizeBilinear(img, S, S);
    crops.push(img.data);
  }
  return crops;
}

/** Runs the ONNX model and face-api's network on `crops`; asserts they agree. */
async function parity(net: Net, crops: Uint8Array[]): Promise<void> {
  const spec = MODELS[net], S = spec.size, n = crops.length;
  const hwc = new Float32Array(n * S * S * 3), chw = new Float32Array(n * S * S * 3);
  crops.forEach((img, i) => {
    for (let p = 0; p < S * S; p++) {
      for (let c = 0; c < 3; c++) {
        hwc[(i * S * S + p) * 3 + c] = img[p * 3 + c];
        chw[i * S * S * 3 + c * S * S + p] = img[p * 3 + c];
      }
    }
  });
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/in.npy`, encodeNpy({ rows: n, cols: S * S * 3, data: hwc }));
  const reference = new URL("../../tools/faceapi_reference.ts", import.meta.url).pathname;
  const ref = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", reference, net, `${dir}/in.npy`, `${dir}/out.npy`],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  assert(ref.success, "face-api reference run failed");
  const want = await readNpy(`${dir}/out.npy`);
  await Deno.remove(dir, { recursive: true });
  const model = await loadOnnxModel(
    await Deno.readFile(new URL(`../../models/${spec.file}`, import.meta.url)),
    "image",
  );
  const res = await model.run(chw, [n, 3, S, S]);
  await model.release();
  // the outputs of each input, concatenated in order, against face-api's row
  const d = want.cols;
  const widths = spec.outputs.map((o) => res[o].data.length / n);
  assert(widths.reduce((a, b) => a + b) === d, `outputs ${widths} vs face-api's ${d} values`);
  const got = { data: new Float32Array(n * d) };
  for (let i = 0; i < n; i++) {
    let o = i * d;
    spec.outputs.forEach((name, k) => {
      got.data.set(res[name].data.subarray(i * widths[k], (i + 1) * widths[k]), o);
      o += widths[k];
    });
  }
  for (let i = 0; i < n; i++) {
    let dot = 0, na = 0, nb = 0, maxd = 0;
    for (let j = 0; j < d; j++) {
      const a = got.data[i * d + j], b = want.data[i * d + j];
      dot += a * b;
      na += a * a;
      nb += b * b;
      maxd = Math.max(maxd, Math.abs(a - b));
    }
    const cos = dot / Math.sqrt(na * nb);
    assert(cos > 0.99999 && maxd < 1e-4, `${net} crop ${i}: cosine ${cos}, max difference ${maxd}`);
  }
}

for (const net of Object.keys(MODELS) as Net[]) {
  const spec = MODELS[net];
  Deno.test(`tools: ${spec.file} regenerated from the npm package equals the committed file`, async () => {
    const fresh = await spec.build();
    const committed = await Deno.readFile(new URL(`../../models/${spec.file}`, import.meta.url));
    assert(
      fresh.length === committed.length && fresh.every((b, i) => b === committed[i]),
      `models/${spec.file} differs from a fresh conversion: run its tool in tools/`,
    );
    assert(committed.length < spec.maxBytes, `${committed.length} bytes: uint8 weights not kept`);
  });
  Deno.test(`${spec.file}: matches face-api's own network on drawn crops`, async () => {
    await parity(net, drawnCrops(spec.size >= 512 ? 1 : 3, spec.size));
  });
  Deno.test({
    name: `${spec.file}: matches face-api's own network on real photos`,
    ignore: !hasShared("faces/bbt_faceapi") || !hasShared("faces/group_photos"),
    fn: async () => await parity(net, await realCrops(spec.size)),
  });
}
