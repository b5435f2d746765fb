/**
 * onnxruntime-web sessions for the embedding models (the WASM execution provider with one
 * thread per session: more threads hang in Deno; parallelism comes from Workers).
 *
 * @module
 */

import * as ort from "onnxruntime-web";

ort.env.wasm.numThreads = 1;

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
): Promise<OnnxModel> {
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
  });
  return {
    async run(data, dims) {
      const res = await session.run({ [input]: new ort.Tensor("float32", data, dims) });
      const out: Record<string, FloatTensor> = {};
      for (const [name, t] of Object.entries(res)) {
        out[name] = { data: t.data as Float32Array, dims: t.dims as number[] };
      }
      return out;
    },
    release: () => session.release(),
  };
}
