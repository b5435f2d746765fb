/**
 * Sessions for the face models: onnxruntime-web's WebGPU execution provider (its own build,
 * loaded only when asked for); on the CPU, onnxruntime-node (native, every core through its
 * intra-op threads; 11–13× the embedding throughput of one WASM worker here, `bench/embed.ts`)
 * where it loads, else onnxruntime-web's WASM backend (one thread per session in the face
 * workers, every core on the main thread: {@link wasmThreads}).
 *
 * @module
 */

// deno-lint-ignore no-import-prefix -- a full specifier, so that mod.ts works when imported by URL
import * as ort from "npm:onnxruntime-web@1.30.0";
import { acquireGpu } from "../gpu/device.ts";

/**
 * Threads of onnxruntime-web's WASM sessions here: one inside a Worker (the face workers are
 * the parallelism there), every core on the main thread (`FACECLUSTER_WASM_THREADS=N` sets
 * that number). (Measured with Deno 2.9.6 and onnxruntime-web 1.30.0: more than one thread runs,
 * also in a Worker and with several sessions, and exits cleanly; dlib, 16 chips, 2 cores:
 * 294 ms with one thread, 186 ms with two.)
 *
 * @returns The thread count.
 *
 * @example
 * ```ts ignore
 * console.log(wasmThreads()); // e.g. 2 on the main thread of a 2-core machine
 * ```
 */
export function wasmThreads(): number {
  const scope = (globalThis as { WorkerGlobalScope?: abstract new () => unknown })
    .WorkerGlobalScope;
  if (scope !== undefined && globalThis instanceof scope) return 1;
  try {
    const v = Number(Deno.env.get("FACECLUSTER_WASM_THREADS"));
    if (v >= 1) return Math.floor(v);
  } catch { /* no env permission: the default */ }
  return Math.max(1, navigator.hardwareConcurrency ?? 1);
}

ort.env.wasm.numThreads = wasmThreads();

/** Threads a native session may use (set by {@link setInferenceThreads}). */
let nativeThreads: number | null = null;

/**
 * Limits the face models to `n` cores (a worker sharing its machine): native sessions'
 * intra-op threads and WASM threads on this thread; sessions loaded after the call.
 *
 * @param n Threads, at least 1.
 *
 * @example
 * ```ts
 * import { setInferenceThreads } from "./onnx_runtime.ts";
 * setInferenceThreads(2);
 * ```
 */
export function setInferenceThreads(n: number): void {
  nativeThreads = Math.max(1, Math.floor(n));
  ort.env.wasm.numThreads = nativeThreads;
}

/** Where a session runs: WebGPU, native CPU (onnxruntime-node) or WASM. */
export type InferenceDevice = "wasm" | "webgpu" | "native";

// deno-lint-ignore no-explicit-any -- onnxruntime-node's module, loaded on first use
type OrtNode = any;
let ortNode: Promise<OrtNode | null> | null = null;

/**
 * onnxruntime-node, loaded once; null where it cannot load (no prebuilt binary for the
 * platform, no FFI permission) or `FACECLUSTER_INFERENCE=wasm` asks for WASM.
 */
function loadOrtNode(): Promise<OrtNode | null> {
  ortNode ??= (async () => {
    try {
      if (Deno.env.get("FACECLUSTER_INFERENCE") === "wasm") return null;
    } catch { /* no env permission: the default */ }
    try {
      // deno-lint-ignore no-import-prefix -- a full specifier, so that mod.ts works imported by URL
      return await import("npm:onnxruntime-node@1.23.2");
    } catch {
      return null;
    }
  })();
  return ortNode;
}

/**
 * Whether native CPU inference (onnxruntime-node) is available here.
 *
 * @returns True when it loads (and `FACECLUSTER_INFERENCE` is not `wasm`).
 *
 * @example
 * ```ts ignore
 * console.log(await nativeInferenceAvailable());
 * ```
 */
export async function nativeInferenceAvailable(): Promise<boolean> {
  return (await loadOrtNode()) !== null;
}

/**
 * The inference device for a `--device` choice: `cpu` → native (onnxruntime-node) where it
 * loads, else wasm; `gpu` → WebGPU on any adapter (software ones too); `auto` → native where
 * it loads (on the one machine with a GPU measured so far, an NVIDIA H200, native
 * onnxruntime on 16 cores embedded 1,844–1,851 faces/s and onnxruntime-web's WebGPU provider
 * 103–179), else WebGPU on a hardware adapter, else wasm.
 *
 * @param choice The user's choice.
 * @returns The device, and the adapter's name when it is WebGPU.
 *
 * @example
 * ```ts ignore
 * const { device } = await chooseInferenceDevice("auto");
 * ```
 */
export async function chooseInferenceDevice(
  choice: "auto" | "gpu" | "cpu",
): Promise<{ device: InferenceDevice; adapter: string | null }> {
  // the native addon is loaded only when the CPU is the answer
  const cpu = async (): Promise<InferenceDevice> =>
    (await nativeInferenceAvailable()) ? "native" : "wasm";
  if (choice === "cpu") return { device: await cpu(), adapter: null };
  if (choice === "auto" && (await nativeInferenceAvailable())) {
    return { device: "native", adapter: null };
  }
  const gpu = await acquireGpu({ allowSoftware: choice === "gpu" });
  if (!gpu) return { device: await cpu(), adapter: null };
  gpu.device.destroy();
  return { device: "webgpu", adapter: gpu.description };
}

/**
 * onnxruntime-web's WebGPU build (a separate module of the package), loaded on first use.
 *
 * @returns The module.
 *
 * @example
 * ```ts ignore
 * const ort = await ortWebGpu();
 * const session = await ort.InferenceSession.create(bytes, { executionProviders: ["webgpu"] });
 * ```
 */
export async function ortWebGpu(): Promise<typeof ort> {
  // deno-lint-ignore no-import-prefix -- a full specifier, so that mod.ts works imported by URL
  const rt = await import("npm:onnxruntime-web@1.30.0/webgpu");
  rt.env.wasm.numThreads = 1;
  return rt;
}

let webGpuCreation: Promise<unknown> = Promise.resolve();

/**
 * Creates an onnxruntime-web WebGPU session, one at a time: the WebGPU build refuses to
 * create a session while another is being created ("another WebGPU EP inference session is
 * being created"), which parallel model loads would otherwise run into.
 *
 * @param bytes The `.onnx` file.
 * @param options Session options (`executionProviders` naming `webgpu`).
 * @returns The session.
 *
 * @example
 * ```ts ignore
 * const s = await createWebGpuSession(bytes, { executionProviders: ["webgpu"] });
 * ```
 */
export function createWebGpuSession(
  bytes: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  const next = webGpuCreation.then(async () => {
    const rt = await ortWebGpu();
    return await rt.InferenceSession.create(bytes, options);
  });
  webGpuCreation = next.catch(() => {});
  return next;
}

/** A float tensor: values and shape. */
export interface FloatTensor {
  /** Values, row-major. */
  data: Float32Array;
  /** Shape. */
  dims: number[];
}

/** A loaded model with one float input and float outputs. */
export interface OnnxModel {
  /** Runs the model on `data` of shape `dims`; returns every output by name. */
  run(data: Float32Array, dims: number[]): Promise<Record<string, FloatTensor>>;
  /** Frees the session. */
  release(): Promise<void>;
}

/**
 * Creates a session from the model's bytes.
 *
 * @param bytes The `.onnx` file.
 * @param input Input name.
 * @param device WebGPU, native (onnxruntime-node) or WASM. @default "wasm"
 * @returns The model.
 *
 * @example
 * ```ts ignore
 * import { loadOnnxModel } from "./onnx_runtime.ts";
 * const m = await loadOnnxModel(bytes, "image");
 * const { descriptor } = await m.run(new Float32Array(3 * 150 * 150), [1, 3, 150, 150]);
 * ```
 */
export async function loadOnnxModel(
  bytes: Uint8Array,
  input: string,
  device: InferenceDevice = "wasm",
): Promise<OnnxModel> {
  // onnxruntime-node and onnxruntime-web share this API; only the module and options differ
  let rt: typeof ort = ort;
  let sessionOptions: Record<string, unknown>;
  if (device === "native") {
    rt = await loadOrtNode();
    if (!rt) throw new Error("onnxruntime-node is not available here");
    sessionOptions = {
      intraOpNumThreads: nativeThreads ?? navigator.hardwareConcurrency,
      // the detector, landmark and embedding sessions take turns: threads that spin-wait
      // after their work would take the cores from the next session
      extra: { session: { intra_op: { allow_spinning: "0" } } },
    };
  } else {
    if (device === "webgpu") rt = await ortWebGpu();
    sessionOptions = { executionProviders: [device] };
  }
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: "all",
    ...sessionOptions,
  };
  const session = device === "webgpu"
    ? await createWebGpuSession(bytes, options)
    : await rt.InferenceSession.create(bytes, options);
  return {
    async run(data, dims) {
      const res = await session.run({ [input]: new rt.Tensor("float32", data, dims) });
      const out: Record<string, FloatTensor> = {};
      for (const [name, t] of Object.entries(res)) {
        out[name] = { data: t.data as Float32Array, dims: [...t.dims] };
      }
      return out;
    },
    release: () => session.release(),
  };
}
