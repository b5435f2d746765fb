/**
 * WebGPU adapter and device acquisition through Deno's `navigator.gpu`.
 *
 * @module
 */

import { readAsset } from "../io/asset.ts";

/** An acquired WebGPU device and what it runs on. */
export interface GpuContext {
  /** The adapter. */
  adapter: GPUAdapter;
  /** A device with the adapter's largest buffer limits. */
  device: GPUDevice;
  /** Human-readable adapter name, e.g. "NVIDIA H200" or "llvmpipe (LLVM 15.0.6, 256 bits)". */
  description: string;
  /** True for a software adapter (Mesa's lavapipe/llvmpipe, SwiftShader). */
  isSoftware: boolean;
}

/** Options of {@link acquireGpu}. */
export interface AcquireGpuOptions {
  /** Accept a software (fallback) adapter. @default false */
  allowSoftware?: boolean;
}

/**
 * Asks for a WebGPU adapter and device. Returns null when there is none (no
 * `navigator.gpu`, no adapter, only a software adapter while `allowSoftware` is false, or a
 * device request that fails).
 *
 * @param options Whether a software adapter will do.
 * @returns The device, or null.
 *
 * @example
 * ```ts ignore
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu({ allowSoftware: true });
 * console.log(gpu?.description ?? "no WebGPU adapter");
 * gpu?.device.destroy();
 * ```
 */
export async function acquireGpu(options: AcquireGpuOptions = {}): Promise<GpuContext | null> {
  // (no Navigator type: it does not exist in a Worker's type library)
  const gpu = (globalThis.navigator as { gpu?: GPU }).gpu;
  if (!gpu) return null;
  quietMesa();
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch {
    return null;
  }
  if (!adapter) return null;
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const description = info.description || info.device || info.vendor || "unknown adapter";
  const isSoftware = info.isFallbackAdapter === true ||
    /llvmpipe|lavapipe|swiftshader|software/i.test(description);
  if (isSoftware && !options.allowSoftware) return null;
  try {
    const l = adapter.limits;
    // half floats (the float16 models) and GPU timestamps (profiling) where the adapter has them
    const requiredFeatures = (["shader-f16", "timestamp-query"] as GPUFeatureName[]).filter((f) =>
      adapter.features.has(f)
    );
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      },
    });
    return { adapter, device, description, isSoftware };
  } catch {
    return null;
  }
}

/**
 * Mesa's Vulkan drivers print "XDG_RUNTIME_DIR is invalid or not set" to stderr when that
 * variable is unset; point it at a private folder first (when allowed) to keep output clean.
 */
function quietMesa(): void {
  try {
    if (Deno.env.get("XDG_RUNTIME_DIR")) return;
    const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/facecluster-runtime-${Deno.uid() ?? 0}`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    // without permissions, leave the environment as it is
  }
}

/**
 * Loads a WGSL file from `shaders/` relative to this module (works from a local checkout
 * and from a remote URL).
 *
 * @param name File name in `shaders/`.
 * @returns The shader source.
 *
 * @example
 * ```ts ignore
 * import { loadShader } from "./device.ts";
 * const code = await loadShader("knn_topk.wgsl");
 * ```
 */
export async function loadShader(name: string): Promise<string> {
  return new TextDecoder().decode(
    await readAsset(new URL(`../../shaders/${name}`, import.meta.url)),
  );
}
