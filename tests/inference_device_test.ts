import { acquireGpu } from "../lib/gpu/device.ts";
import {
  chooseInferenceDevice,
  loadOnnxModel,
  nativeInferenceAvailable,
} from "../lib/embed/onnx_runtime.ts";
import { loadModelFile } from "../lib/models.ts";
import { assert, assertEquals } from "./shared.ts";

const gpu = await acquireGpu({ allowSoftware: true });
if (!gpu) {
  console.warn("SKIP: no WebGPU adapter (install mesa-vulkan-drivers); WebGPU EP test ignored");
}
gpu?.device.destroy();

Deno.test("inference: --device cpu is native (else WASM); auto is native where it loads, else WebGPU only on a hardware adapter", async () => {
  const cpu = (await nativeInferenceAvailable()) ? "native" : "wasm";
  if (cpu === "wasm") console.log("SKIP native: onnxruntime-node does not load here");
  assertEquals((await chooseInferenceDevice("cpu")).device, cpu);
  const hw = await acquireGpu({ allowSoftware: false });
  hw?.device.destroy();
  assertEquals(
    (await chooseInferenceDevice("auto")).device,
    cpu === "native" ? "native" : hw ? "webgpu" : "wasm",
  );
});

Deno.test("inference: native onnxruntime gives the WASM provider's landmarks and descriptors", async () => {
  if (!(await nativeInferenceAvailable())) return;
  for (
    const [file, output, size] of [
      ["face_landmark_68.onnx", "landmarks", 112],
      ["dlib_resnet.onnx", "descriptor", 150],
    ] as const
  ) {
    const bytes = await loadModelFile(file);
    const x = new Float32Array(3 * 3 * size * size).map((_, i) => (i * 37) % 255);
    const wasm = await loadOnnxModel(bytes, "image", "wasm");
    const native = await loadOnnxModel(bytes, "image", "native");
    const a = (await wasm.run(x, [3, 3, size, size]))[output].data;
    const b = (await native.run(x, [3, 3, size, size]))[output].data;
    await Promise.all([wasm.release(), native.release()]);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert(worst < 1e-4, `${file}: native and WASM differ by ${worst}`);
  }
});

Deno.test({
  name: "inference: the WebGPU execution provider gives the WASM provider's landmarks",
  ignore: !gpu,
  fn: async () => {
    assertEquals((await chooseInferenceDevice("gpu")).device, "webgpu");
    const bytes = await loadModelFile("face_landmark_68.onnx");
    const x = new Float32Array(2 * 3 * 112 * 112).map((_, i) => (i * 37) % 255);
    const wasm = await loadOnnxModel(bytes, "image", "wasm");
    const webgpu = await loadOnnxModel(bytes, "image", "webgpu");
    const a = (await wasm.run(x, [2, 3, 112, 112])).landmarks.data;
    const b = (await webgpu.run(x, [2, 3, 112, 112])).landmarks.data;
    await wasm.release();
    await webgpu.release();
    assertEquals(a.length, 272);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert(worst < 1e-4, `WebGPU and WASM differ by ${worst}`);
  },
});
