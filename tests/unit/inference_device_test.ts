import { acquireGpu } from "../../lib/gpu/device.ts";
import {
  chooseInferenceDevice,
  loadOnnxModel,
  nativeInferenceAvailable,
} from "../../lib/embed/onnx_runtime.ts";
import { loadModelFile } from "../../lib/models.ts";
import { WebWorker } from "../../lib/web_worker.ts";
import { assert, assertEquals } from "../shared.ts";

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

Deno.test("inference: WASM with two threads (main thread) gives the one-thread descriptors and exits; Workers use one thread", async () => {
  const script = `
    import { loadOnnxModel, wasmThreads } from "${new URL(
    "../../lib/embed/onnx_runtime.ts",
    import.meta.url,
  )}";
    import { loadModelFile } from "${new URL("../../lib/models.ts", import.meta.url)}";
    const m = await loadModelFile("dlib_resnet.onnx");
    const x = new Float32Array(4 * 3 * 150 * 150).map((_, i) => (i * 37) % 255);
    const s = await loadOnnxModel(m, "image", "wasm");
    const d = (await s.run(x, [4, 3, 150, 150])).descriptor.data;
    console.log(JSON.stringify({ threads: wasmThreads(), d: [...d] }));
  `;
  const run = async (threads: string) => {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", script],
      env: { FACECLUSTER_WASM_THREADS: threads, FACECLUSTER_INFERENCE: "wasm" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000), // a hang fails the test instead of stalling it
    }).output();
    assert(r.success, new TextDecoder().decode(r.stderr).slice(-1000));
    return JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").pop()!);
  };
  const one = await run("1"), two = await run("2");
  assertEquals([one.threads, two.threads], [1, 2]);
  let worst = 0;
  for (let i = 0; i < one.d.length; i++) worst = Math.max(worst, Math.abs(one.d[i] - two.d[i]));
  assert(worst < 1e-5, `two threads differ by ${worst}`);
  // inside a Worker the sessions keep one thread (the face workers are the parallelism)
  const code = `import { wasmThreads } from "${new URL(
    "../../lib/embed/onnx_runtime.ts",
    import.meta.url,
  )}"; self.postMessage(wasmThreads());`;
  // (the captured Worker: onnxruntime-web replaces the global one with Node's on load)
  const w = new WebWorker(new URL(`data:application/javascript,${encodeURIComponent(code)}`), {
    type: "module",
  });
  const inWorker = await new Promise((ok) => w.onmessage = (e) => ok(e.data));
  w.terminate();
  assertEquals(inWorker, 1);
});
