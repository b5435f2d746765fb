/**
 * Face embeddings on WebGPU with the data kept on the GPU: the chips go up as bytes (a
 * quarter of the float tensor), `shaders/face_input.wgsl` lays them out as the model's
 * input (and the mirrored copies for `flip`), onnxruntime-web's WebGPU execution provider
 * runs the model on the same `GPUDevice` with its input and output bound to GPU buffers (IO
 * binding), and `shaders/embed_normalize.wgsl` scales, averages and normalises the rows
 * before the only read back. Optional: the model in float16 (`toFloat16`, where the adapter
 * has `shader-f16`) and onnxruntime's graph capture (the run's command buffers recorded once
 * and replayed; a fixed batch, the last one zero-padded).
 *
 * @module
 */

import { acquireGpu, type GpuContext, loadShader } from "../gpu/device.ts";
import type { RgbImage } from "../image/types.ts";
import { chipSourceMap } from "../align/align.ts";
import type { Point } from "../align/similarity.ts";
import { fivePoints } from "../align/templates.ts";
import { toFloat16 } from "../onnx/fp16.ts";
import { modelGraph } from "./model_graph.ts";
import type { EmbeddingModel } from "./models.ts";
import { createWebGpuSession, ortWebGpu } from "./onnx_runtime.ts";

/** Options of {@link GpuEmbedder.load}. */
export interface GpuEmbedderOptions {
  /** Model inputs per run (chips × copies). @default 64 */
  batch?: number;
  /** Also embed each chip's mirror image and average the two. @default false */
  flip?: boolean;
  /** Compute in float16 (needs `shader-f16`; falls back to float32 without). @default false */
  fp16?: boolean;
  /** Record the run once and replay it (fixed batch). @default false */
  graphCapture?: boolean;
  /** onnxruntime's WebGPU validation. @default "basic" */
  validation?: "disabled" | "wgpuOnly" | "basic" | "full";
  /** The layout onnxruntime's WebGPU kernels work in (its default: NHWC). */
  layout?: "NCHW" | "NHWC";
  /** Print onnxruntime's profile (chrome-trace JSON lines with GPU kernel times) on release. */
  profile?: boolean;
  /** The GPU to use (its device is shared with onnxruntime). @default a fresh one */
  gpu?: GpuContext;
  /** Where downloaded models live. */
  cacheDir?: string;
}

// deno-lint-ignore no-explicit-any -- onnxruntime-web's session and tensor types
type Ort = any;

/** Chips whose embeddings are read back together at most (16 MiB at 256 dimensions). */
const READBACK_CHIPS = 16384;

const STORAGE = 0x80, COPY_DST = 0x8, COPY_SRC = 0x4, MAP_READ = 0x1, UNIFORM = 0x40;

/**
 * Embeds aligned chips on a WebGPU device, input and output staying on the GPU.
 *
 * @example
 * ```ts ignore
 * import { GpuEmbedder } from "./gpu_embedder.ts";
 * import { MOBILEFACENET } from "./models.ts";
 * const e = await GpuEmbedder.load(MOBILEFACENET, { batch: 256, fp16: true });
 * const vectors = await e.embedChips(chips); // chips.length × 128, unit rows
 * await e.release();
 * ```
 */
export class GpuEmbedder {
  /** The model. */
  readonly model: EmbeddingModel;
  /** Whether each chip's mirror image is embedded too. */
  readonly flip: boolean;
  /** Whether the model computes in float16. */
  readonly fp16: boolean;
  /** Whether onnxruntime replays a captured graph. */
  readonly graphCapture: boolean;
  /** The adapter's name. */
  readonly adapter: string;
  #gpu: GpuContext;
  #ownGpu: boolean;
  #ort: Ort;
  #session: Ort;
  #input: string;
  #batch: number;
  #toTensor: GPUComputePipeline;
  #normalize: GPUComputePipeline;
  #warp: GPUComputePipeline;
  #pixels: GPUBuffer;
  #tensor: GPUBuffer;
  #params: GPUBuffer;
  #normParams: GPUBuffer;
  #profile: boolean;

  private constructor(
    init: {
      model: EmbeddingModel;
      flip: boolean;
      fp16: boolean;
      graphCapture: boolean;
      gpu: GpuContext;
      ownGpu: boolean;
      ort: Ort;
      session: Ort;
      input: string;
      batch: number;
      toTensor: GPUComputePipeline;
      normalize: GPUComputePipeline;
      warp: GPUComputePipeline;
      profile: boolean;
    },
  ) {
    this.model = init.model;
    this.flip = init.flip;
    this.fp16 = init.fp16;
    this.graphCapture = init.graphCapture;
    this.adapter = init.gpu.description;
    this.#gpu = init.gpu;
    this.#ownGpu = init.ownGpu;
    this.#ort = init.ort;
    this.#session = init.session;
    this.#input = init.input;
    this.#batch = init.batch;
    this.#toTensor = init.toTensor;
    this.#normalize = init.normalize;
    this.#warp = init.warp;
    this.#profile = init.profile;
    const { size } = init.model;
    const d = init.gpu.device;
    this.#pixels = d.createBuffer({
      size: Math.ceil((init.batch * size * size * 3) / 4) * 4,
      usage: STORAGE | COPY_DST,
    });
    this.#tensor = d.createBuffer({
      size: init.batch * 3 * size * size * 4,
      usage: STORAGE | COPY_DST | COPY_SRC,
    });
    this.#params = d.createBuffer({ size: 32, usage: UNIFORM | COPY_DST });
    this.#normParams = d.createBuffer({ size: 16, usage: UNIFORM | COPY_DST });
  }

  /**
   * Loads a model onto a WebGPU device.
   *
   * @param model The model.
   * @param options Batch, flip, float16, graph capture, validation, device.
   * @returns The embedder.
   * @throws {Error} If there is no WebGPU adapter.
   */
  static async load(
    model: EmbeddingModel,
    options: GpuEmbedderOptions = {},
  ): Promise<GpuEmbedder> {
    const gpu = options.gpu ?? await acquireGpu({ allowSoftware: true });
    if (!gpu) throw new Error("no WebGPU adapter");
    const fp16 = (options.fp16 ?? false) && gpu.device.features.has("shader-f16");
    const graphCapture = options.graphCapture ?? false;
    const flip = options.flip ?? false;
    const batch = Math.max(flip ? 2 : 1, options.batch ?? 64);
    const graph = await modelGraph(model, options.cacheDir);
    const bytes = fp16 ? toFloat16(graph.bytes).bytes : graph.bytes;
    const ort = await ortWebGpu();
    const session = await createWebGpuSession(bytes, {
      executionProviders: [{
        name: "webgpu",
        device: gpu.device,
        validationMode: options.validation ?? "basic",
        ...(options.layout ? { preferredLayout: options.layout } : {}),
      }],
      graphOptimizationLevel: "all",
      enableGraphCapture: graphCapture,
      preferredOutputLocation: "gpu-buffer",
      enableProfiling: options.profile ?? false,
    });
    const modules = new Map<string, GPUShaderModule>();
    const pipeline = async (file: string, entryPoint = "main") => {
      if (!modules.has(file)) {
        modules.set(file, gpu.device.createShaderModule({ code: await loadShader(file) }));
      }
      return await gpu.device.createComputePipelineAsync({
        layout: "auto",
        compute: { module: modules.get(file)!, entryPoint },
      });
    };
    return new GpuEmbedder({
      model,
      flip,
      fp16,
      graphCapture,
      gpu,
      ownGpu: !options.gpu,
      ort,
      session,
      input: graph.input,
      batch,
      toTensor: await pipeline("face_input.wgsl", "from_chips"),
      normalize: await pipeline("embed_normalize.wgsl"),
      warp: await pipeline("face_input.wgsl", "from_photo"),
      profile: options.profile ?? false,
    });
  }

  /**
   * Embeds chips (already aligned, `model.size` square).
   *
   * @param chips The chips.
   * @returns `chips.length × dims` values, each row of unit length.
   */
  async embedChips(chips: RgbImage[]): Promise<Float32Array> {
    const { size } = this.model;
    const copies = this.flip ? 2 : 1;
    const chipBytes = size * size * 3;
    chips.forEach((c, i) => {
      if (c.width !== size || c.height !== size) {
        throw new Error(`chip ${i} is ${c.width}×${c.height}, the model takes ${size}`);
      }
    });
    const packed = new Uint8Array(this.#pixels.size);
    return await this.#embed(chips.length, (b0, n, rows) => {
      for (let k = 0; k < n; k++) {
        packed.set(chips[b0 + k].data.subarray(0, chipBytes), k * chipBytes);
      }
      const d = this.#gpu.device;
      d.queue.writeBuffer(this.#pixels, 0, packed, 0, Math.ceil((n * chipBytes) / 4) * 4);
      d.queue.writeBuffer(this.#params, 0, new Uint32Array([size, n, copies, rows, 0, 0, 0, 0]));
      const groups = Math.ceil((rows * size * size) / 64);
      this.#dispatch(this.#toTensor, [this.#params, this.#pixels, this.#tensor], groups);
    });
  }

  /**
   * Embeds faces of one photo, their chips cut on the GPU (`shaders/face_input.wgsl`):
   * the photo goes up once, each face's chip is sampled from it by the similarity transform
   * that puts its five points on the model's template, as `FaceEmbedder.chip` does on the CPU.
   *
   * @param img The photo.
   * @param landmarks Each face's 68 landmarks.
   * @returns `landmarks.length × dims` values, each row of unit length.
   *
   * @example
   * ```ts ignore
   * const vectors = await embedder.embedFaces(photo, faces.map((f) => f.landmarks));
   * ```
   */
  async embedFaces(img: RgbImage, landmarks: Point[][]): Promise<Float32Array> {
    const { size, template } = this.model;
    const copies = this.flip ? 2 : 1;
    const d = this.#gpu.device;
    if (landmarks.length === 0) return new Float32Array(0);
    const maps = new Float32Array(landmarks.length * 6);
    landmarks.forEach((lm, i) => {
      maps.set(chipSourceMap(fivePoints(lm), template), i * 6);
    });
    const bytes = Math.ceil((img.width * img.height * 3) / 4) * 4;
    const photo = d.createBuffer({ size: bytes, usage: STORAGE | COPY_DST });
    const mapBuf = d.createBuffer({ size: maps.byteLength, usage: STORAGE | COPY_DST });
    const params = d.createBuffer({ size: 32, usage: UNIFORM | COPY_DST });
    try {
      const data = new Uint8Array(bytes); // (padded to whole words)
      data.set(img.data);
      d.queue.writeBuffer(photo, 0, data);
      d.queue.writeBuffer(mapBuf, 0, maps);
      return await this.#embed(landmarks.length, (b0, n, rows) => {
        d.queue.writeBuffer(
          params,
          0,
          new Uint32Array([size, n, copies, rows, img.width, img.height, b0, 0]),
        );
        const groups = Math.ceil((rows * size * size) / 64);
        this.#dispatch(this.#warp, [params, photo, this.#tensor, mapBuf], groups);
      });
    } finally {
      for (const b of [photo, mapBuf, params]) b.destroy();
    }
  }

  /**
   * Runs `count` inputs through the model in batches: `fill(b0, n, rows)` writes the model
   * input of items b0 … b0 + n − 1 into the input buffer (`rows` rows: n × copies, or the
   * whole batch with graph capture); the rows are normalised on the GPU and read back once.
   */
  async #embed(
    count: number,
    fill: (b0: number, n: number, rows: number) => void,
  ): Promise<Float32Array> {
    const { size, dims, output } = this.model;
    if (count > READBACK_CHIPS) {
      // the embeddings of a long list come back in parts (bounded GPU buffers)
      const out = new Float32Array(count * dims);
      for (let i = 0; i < count; i += READBACK_CHIPS) {
        const n = Math.min(READBACK_CHIPS, count - i);
        out.set(await this.#embed(n, (b0, m, rows) => fill(i + b0, m, rows)), i * dims);
      }
      return out;
    }
    const d = this.#gpu.device;
    const copies = this.flip ? 2 : 1;
    const perCall = Math.floor(this.#batch / copies);
    const emb = d.createBuffer({ size: Math.max(4, count * dims * 4), usage: STORAGE | COPY_SRC });
    try {
      for (let b0 = 0; b0 < count; b0 += perCall) {
        const n = Math.min(perCall, count - b0);
        // a captured graph always runs the full batch; otherwise only the rows there are
        const rows = this.graphCapture ? this.#batch : n * copies;
        fill(b0, n, rows);
        const feeds = {
          [this.#input]: this.#ort.Tensor.fromGpuBuffer(this.#tensor, {
            dataType: "float32",
            dims: [rows, 3, size, size],
          }),
        };
        // the output stays in onnxruntime's buffer (with graph capture a pre-allocated output
        // buffer is written only by the capturing run, measured: later batches read stale rows)
        const res = await this.#session.run(feeds);
        const t = res[output];
        const raw = t.gpuBuffer as GPUBuffer;
        d.queue.writeBuffer(this.#normParams, 0, new Uint32Array([dims, n, copies, 0]));
        // the normalised rows of this batch go to their place in `emb`
        const enc = d.createCommandEncoder();
        const pass = enc.beginComputePass();
        pass.setPipeline(this.#normalize);
        pass.setBindGroup(
          0,
          d.createBindGroup({
            layout: this.#normalize.getBindGroupLayout(0),
            entries: [
              { binding: 0, resource: { buffer: this.#normParams } },
              { binding: 1, resource: { buffer: raw } },
              { binding: 2, resource: { buffer: emb, offset: b0 * dims * 4, size: n * dims * 4 } },
            ],
          }),
        );
        pass.dispatchWorkgroups(n);
        pass.end();
        d.queue.submit([enc.finish()]);
        // a captured graph keeps writing into the same output buffer
        if (!this.graphCapture) t.dispose();
      }
      const read = d.createBuffer({ size: emb.size, usage: MAP_READ | COPY_DST });
      const enc = d.createCommandEncoder();
      enc.copyBufferToBuffer(emb, 0, read, 0, emb.size);
      d.queue.submit([enc.finish()]);
      await read.mapAsync(1 /* GPUMapMode.READ */);
      const out = new Float32Array(read.getMappedRange().slice(0, count * dims * 4));
      read.unmap();
      read.destroy();
      return out;
    } finally {
      emb.destroy();
    }
  }

  #dispatch(pipeline: GPUComputePipeline, buffers: GPUBuffer[], groups: number): void {
    const d = this.#gpu.device;
    const enc = d.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      d.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
      }),
    );
    const x = Math.min(groups, 65535);
    pass.dispatchWorkgroups(x, Math.ceil(groups / x));
    pass.end();
    d.queue.submit([enc.finish()]);
  }

  /** Frees the session and buffers (and the device when this embedder acquired it). */
  async release(): Promise<void> {
    if (this.#profile) this.#session.endProfiling();
    await this.#session.release();
    for (const b of [this.#pixels, this.#tensor, this.#params, this.#normParams]) {
      b.destroy();
    }
    if (this.#ownGpu) this.#gpu.device.destroy();
  }
}
