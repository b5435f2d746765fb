/**
 * Worker of bench/embed.ts: one FaceEmbedder (one-thread WASM session) embedding the chips
 * it is sent, timed.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { FaceEmbedder } from "../lib/embed/embedder.ts";
import { MODELS } from "../lib/embed/models.ts";

let embedder: FaceEmbedder | null = null;
self.onmessage = async (e: MessageEvent) => {
  const { type } = e.data;
  if (type === "init") {
    embedder = await FaceEmbedder.load(MODELS[e.data.model], { batch: e.data.batch });
    self.postMessage({ ready: true });
  } else if (type === "run") {
    const chips = e.data.chips;
    await embedder!.embedChips(chips.slice(0, 2)); // warm-up
    const t0 = performance.now();
    const vectors = await embedder!.embedChips(chips);
    self.postMessage({ seconds: (performance.now() - t0) / 1000, vectors });
  }
};
