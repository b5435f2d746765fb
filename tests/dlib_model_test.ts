import { buildDlibOnnx, DLIB_SIZE, loadDlibWeights } from "../tools/convert_dlib.ts";
import { encodeNpy, readNpy } from "../lib/io/npy.ts";
import { loadOnnxModel } from "../lib/embed/onnx_runtime.ts";
import { decodeImage } from "../lib/image/decode.ts";
import { assert, hasShared, SHARED } from "./shared.ts";

const MODEL = new URL("../models/dlib_resnet.onnx", import.meta.url);
const S = DLIB_SIZE;

Deno.test("tools/convert_dlib: regenerating from the npm package gives the committed model", async () => {
  const fresh = buildDlibOnnx(await loadDlibWeights());
  const committed = await Deno.readFile(MODEL);
  assert(fresh.length === committed.length, `size ${fresh.length} vs ${committed.length}`);
  assert(
    fresh.every((b, i) => b === committed[i]),
    "bytes differ: run deno run -A tools/convert_dlib.ts",
  );
  assert(
    committed.length < 7_000_000,
    `${committed.length} bytes: the uint8 weights were not kept`,
  );
});

/** Crops drawn in code: smooth colour fields with a face-like blob, deterministic. */
function drawnCrops(n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = 0; k < n; k++) {
    const img = new Uint8Array(S * S * 3);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const r = Math.hypot(x - 75 - 5 * k, y - 70) / 50;
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

async function parity(crops: Uint8Array[]): Promise<void> {
  const n = crops.length;
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
  const ref = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../tools/faceapi_reference.ts", import.meta.url).pathname,
      `${dir}/in.npy`,
      `${dir}/out.npy`,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  assert(ref.success, "face-api reference run failed");
  const want = await readNpy(`${dir}/out.npy`);
  await Deno.remove(dir, { recursive: true });
  const model = await loadOnnxModel(await Deno.readFile(MODEL), "image", "descriptor");
  const got = await model.run(chw, [n, 3, S, S]);
  await model.release();
  for (let i = 0; i < n; i++) {
    let dot = 0, na = 0, nb = 0, maxd = 0;
    for (let j = 0; j < 128; j++) {
      const a = got.data[i * 128 + j], b = want.data[i * 128 + j];
      dot += a * b;
      na += a * a;
      nb += b * b;
      maxd = Math.max(maxd, Math.abs(a - b));
    }
    const cos = dot / Math.sqrt(na * nb);
    assert(cos > 0.99999 && maxd < 1e-4, `crop ${i}: cosine ${cos}, max difference ${maxd}`);
  }
}

Deno.test("dlib model: the ONNX graph matches face-api's own network on drawn crops", async () => {
  await parity(drawnCrops(3));
});

Deno.test({
  name: "dlib model: the ONNX graph matches face-api's own network on bbt_faceapi faces",
  ignore: !hasShared("faces/bbt_faceapi"),
  fn: async () => {
    const crops: Uint8Array[] = [];
    for (const person of ["amy", "penny", "sheldon"]) {
      const path = `${SHARED}faces/bbt_faceapi/${person}/${person}1.png`;
      const img = await decodeImage(await Deno.readFile(path), path);
      assert(img.width === S && img.height === S, `${path} is not ${S}×${S}`);
      crops.push(img.data);
    }
    await parity(crops);
  },
});
