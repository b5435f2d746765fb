/**
 * A face worker: its own detector and embedder (one-thread WASM sessions), answering one
 * photo at a time. Messages: `init` (model and device) → `{ ready }`; `photo` (bytes and
 * settings) → `{ id, result }` or `{ id, error, input }` (input: the photo's own fault).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { FaceDetector } from "../detect/detector.ts";
import { FaceEmbedder } from "../embed/embedder.ts";
import type { EmbeddingModel } from "../embed/models.ts";
import { InputError } from "../errors.ts";
import { photoFaces, type PhotoFacesOptions } from "./photo_faces.ts";

let detector: FaceDetector | null = null;
let embedder: FaceEmbedder | null = null;

self.onmessage = async (e: MessageEvent) => {
  const msg = e.data;
  try {
    if (msg.type === "init") {
      const m = msg.model as EmbeddingModel;
      [detector, embedder] = await Promise.all([
        FaceDetector.load({
          device: "wasm",
          detector: msg.detector,
          refine: msg.refine,
          cacheDir: msg.cacheDir,
        }),
        FaceEmbedder.load(m, { device: "wasm", cacheDir: msg.cacheDir, flip: msg.flip }),
      ]);
      self.postMessage({ ready: true });
    } else if (msg.type === "photo") {
      const r = await photoFaces(
        msg.bytes,
        msg.name,
        detector!,
        embedder!,
        msg.options as PhotoFacesOptions,
      );
      const transfer: ArrayBuffer[] = [r.vectors.buffer as ArrayBuffer];
      for (const c of r.chips) transfer.push(c.data.buffer as ArrayBuffer);
      self.postMessage({ id: msg.id, result: r }, transfer);
    } else if (msg.type === "close") {
      await Promise.all([detector?.release(), embedder?.release()]);
      self.postMessage({ closed: true });
    }
  } catch (err) {
    self.postMessage({
      id: msg.id,
      error: err instanceof InputError ? err.problem : (err as Error).message,
      input: err instanceof InputError,
    });
  }
};
