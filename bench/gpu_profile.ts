/**
 * Where the WebGPU embedding time goes: onnxruntime-web's profiler (GPU kernel times from
 * `timestamp-query` when the adapter has it) for the GPU-resident embedder, summed per run
 * and per operator, beside the wall time of the run. The profiler prints chrome-trace JSON
 * to stdout from inside the WASM module, so each case runs in a child process whose output
 * is parsed here.
 *
 * Run: `deno run -A bench/gpu_profile.ts [--models dlib,mobilefacenet] [--batches 64,256]
 * [--fp16 both] [--runs 5] [--layout NCHW]`. Prints one JSON line per case: median run wall ms, GPU kernel
 * ms in that run, their ratio, kernels per run, and the operators by GPU time.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { GpuEmbedder } from "../lib/embed/gpu_embedder.ts";
import { isModelAvailable, MODELS } from "../lib/embed/models.ts";
import { modelCacheDir } from "../lib/embed/download.ts";
import type { RgbImage } from "../lib/image/types.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    models: { type: "string", default: "dlib,mobilefacenet" },
    batches: { type: "string", default: "64,256" },
    fp16: { type: "string", default: "both" },
    runs: { type: "string", default: "5" },
    layout: { type: "string" },
    child: { type: "string" },
  },
});

/** One chrome-trace event of onnxruntime's profiler. */
interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

if (values.child) {
  // child: one case, the profiler's output on stdout
  const [name, batch, fp16] = values.child.split(":");
  const model = MODELS[name];
  const n = Number(batch);
  const chips: RgbImage[] = Array.from({ length: n }, (_, i) => ({
    width: model.size,
    height: model.size,
    data: Uint8Array.from(
      { length: model.size * model.size * 3 },
      (_, j) => (i * 31 + j * 7) % 256,
    ),
  }));
  const e = await GpuEmbedder.load(model, {
    batch: n,
    fp16: fp16 === "1",
    profile: true,
    layout: values.layout as "NCHW" | "NHWC" | undefined,
  });
  for (let r = 0; r < Number(values.runs); r++) await e.embedChips(chips);
  console.log(JSON.stringify({ fc_fp16: e.fp16, fc_adapter: e.adapter }));
  await e.release();
  Deno.exit(0);
}

function top(m: Record<string, { ms: number; count: number }>): string[] {
  return Object.entries(m).sort((a, b) => b[1].ms - a[1].ms).slice(0, 8).map(([k, v]) =>
    `${k} ${v.ms.toFixed(2)} ms ×${v.count}`
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

for (const name of values.models.split(",")) {
  if (!(await isModelAvailable(MODELS[name], modelCacheDir()))) {
    console.log(JSON.stringify({ model: name, skipped: "not in the model cache" }));
    continue;
  }
  const precisions = values.fp16 === "both" ? ["0", "1"] : [values.fp16 === "true" ? "1" : "0"];
  for (const batch of values.batches.split(",")) {
    for (const fp16 of precisions) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--no-config", // lib/ needs no import map; the npm packages are cached by now
          "--cached-only",
          new URL(import.meta.url).pathname,
          "--child",
          `${name}:${batch}:${fp16}`,
          "--runs",
          values.runs,
          ...(values.layout ? ["--layout", values.layout] : []),
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      if (!out.success) {
        console.log(JSON.stringify({
          model: name,
          batch: +batch,
          error: new TextDecoder().decode(out.stderr).slice(-400),
        }));
        continue;
      }
      const events: TraceEvent[] = [];
      let info: { fc_fp16?: boolean; fc_adapter?: string } = {};
      for (const line of text.split("\n")) {
        const l = line.trim().replace(/,$/, "");
        if (l.startsWith('{"cat"')) events.push(JSON.parse(l));
        else if (l.startsWith('{"fc_fp16"')) info = JSON.parse(l);
      }
      const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run");
      const kernels = events.filter((e) => e.cat === "Api");
      // per run (the first one, with shader compilation, left out): kernels inside it
      // (a run's kernels are those that start before the next run does)
      const perRun = runs.slice(1).map((r, i) => {
        const end = runs[i + 2]?.ts ?? Infinity;
        const inside = kernels.filter((k) => k.ts >= r.ts && k.ts < end);
        // kernel names are "node&operator&program" (the program: which shader, e.g.
        // GroupedConv or MatMul for a Conv)
        const byOp: Record<string, { ms: number; count: number }> = {};
        const byProgram: Record<string, { ms: number; count: number }> = {};
        for (const k of inside) {
          const [, op = k.name, program = op] = k.name.split("&");
          for (const [map, key] of [[byOp, op], [byProgram, `${op}/${program}`]] as const) {
            map[key] ??= { ms: 0, count: 0 };
            map[key].ms += k.dur / 1000;
            map[key].count++;
          }
        }
        return {
          wall: r.dur / 1000,
          gpu: inside.reduce((s, k) => s + k.dur, 0) / 1000,
          count: inside.length,
          byOp,
          byProgram,
        };
      });
      if (!perRun.length) {
        console.log(JSON.stringify({ model: name, batch: +batch, error: "no profiled runs" }));
        continue;
      }
      const mid = perRun.find((r) => r.wall === median(perRun.map((x) => x.wall)))!;
      console.log(JSON.stringify({
        model: name,
        adapter: info.fc_adapter,
        fp16: info.fc_fp16,
        layout: values.layout ?? "NHWC",
        batch: +batch,
        run_ms: +mid.wall.toFixed(2),
        gpu_kernel_ms: +mid.gpu.toFixed(2),
        gpu_share: +(mid.gpu / mid.wall).toFixed(3),
        kernels: mid.count,
        faces_per_s_run: +(+batch / (mid.wall / 1000)).toFixed(1),
        ops: top(mid.byOp),
        programs: top(mid.byProgram),
      }));
    }
  }
}
