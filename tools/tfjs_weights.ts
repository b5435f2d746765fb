/**
 * Reading TensorFlow.js weight manifests and their binary shards, with uint8 quantization
 * kept as stored (values, scale and min) so that a converter can keep it.
 *
 * @module
 */

/** One weight of a tfjs manifest. */
export interface TfjsWeight {
  /** Its name, e.g. "conv32_1/conv1/conv/filters". */
  name: string;
  /** Shape as stored (TF layout: conv filters are [kh, kw, cin, cout]). */
  shape: number[];
  /** Raw float32 values, or null when quantized. */
  float: Float32Array | null;
  /** Quantized values (value = q · scale + min), or null when stored as float32. */
  quantized: { q: Uint8Array; scale: number; min: number } | null;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale: number; min: number };
}

/**
 * Parses a weights manifest and its concatenated shards.
 *
 * @param manifest The manifest's JSON text.
 * @param shards The shard files, in the manifest's order.
 * @returns The weights by name.
 * @throws {Error} On a dtype this reader does not handle or a size mismatch.
 *
 * @example
 * ```ts ignore
 * const w = readTfjsWeights(manifestText, [binBytes]);
 * ```
 */
export function readTfjsWeights(manifest: string, shards: Uint8Array[]): Map<string, TfjsWeight> {
  const groups = JSON.parse(manifest) as { weights: ManifestEntry[] }[];
  const total = shards.reduce((a, s) => a + s.length, 0);
  const bin = new Uint8Array(total);
  let o = 0;
  for (const s of shards) {
    bin.set(s, o);
    o += s.length;
  }
  const out = new Map<string, TfjsWeight>();
  let off = 0;
  for (const w of groups.flatMap((g) => g.weights)) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    // int32 weights (shape constants of the source graph) are read as numbers too
    if (w.dtype !== "float32" && w.dtype !== "int32") {
      throw new Error(`${w.name}: dtype ${w.dtype} not handled`);
    }
    if (w.quantization) {
      if (w.quantization.dtype !== "uint8") {
        throw new Error(`${w.name}: quantization ${w.quantization.dtype} not handled`);
      }
      const q = bin.slice(off, off + n);
      off += n;
      out.set(w.name, {
        name: w.name,
        shape: w.shape,
        float: null,
        quantized: { q, scale: w.quantization.scale, min: w.quantization.min },
      });
    } else {
      const raw = bin.slice(off, off + 4 * n).buffer;
      const f = w.dtype === "int32"
        ? Float32Array.from(new Int32Array(raw))
        : new Float32Array(raw);
      off += 4 * n;
      out.set(w.name, { name: w.name, shape: w.shape, float: f, quantized: null });
    }
  }
  if (off !== total) throw new Error(`manifest covers ${off} bytes, shards hold ${total}`);
  return out;
}

/**
 * The float values of a weight (dequantized when stored as uint8).
 *
 * @param w The weight.
 * @returns Its values in stored (TF) order.
 *
 * @example
 * ```ts ignore
 * const values = dequantize(weights.get("fc")!);
 * ```
 */
export function dequantize(w: TfjsWeight): Float32Array {
  if (w.float) return w.float;
  const { q, scale, min } = w.quantized!;
  return Float32Array.from(q, (v) => v * scale + min);
}
