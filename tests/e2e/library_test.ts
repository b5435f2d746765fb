// The library as other Deno code uses it: mod.ts imported from a URL served on 127.0.0.1 by
// a separate project, and the small API (embedFaces, buildKnnGraph, infomap, evaluate,
// clusterFolder) with progress and cancellation.

import { buildKnnGraph, embedFaces, evaluate, infomap } from "../../mod.ts";
import { nativeInferenceAvailable } from "../../lib/embed/onnx_runtime.ts";
import { encodePng, patternImage } from "../image_fixtures.ts";
import { assert, assertEquals, hasShared, SHARED } from "../shared.ts";

// onnxruntime-node is a native addon, which a process can load in one isolate only: loading
// it again in a second test module's isolate crashes the test process. tests/
// inference_device_test.ts is the module that runs it in-process; here the in-process calls
// take the WASM path (decided on this module's first use, then the variable is dropped so
// that the subprocesses below choose as users' runs do).
Deno.env.set("FACECLUSTER_INFERENCE", "wasm");
assertEquals(await nativeInferenceAvailable(), false);
Deno.env.delete("FACECLUSTER_INFERENCE");

const ROOT = new URL("../../", import.meta.url).pathname;
const BBT = `${SHARED}faces/bbt_faceapi`;

Deno.test("library: nothing under lib/ or in mod.ts reads Deno.args, exits or prints", async () => {
  const offenders: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const e of Deno.readDir(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (p.endsWith(".ts")) {
        const text = await Deno.readTextFile(p);
        for (const bad of ["Deno.args", "Deno.exit(", "console.log("]) {
          // JSDoc examples may print; code may not
          const code = text.split("\n").filter((l) => !/^\s*(\*|\/\/)/.test(l)).join("\n");
          if (code.includes(bad)) offenders.push(`${p}: ${bad}`);
        }
      }
    }
  };
  await walk(`${ROOT}lib`);
  const mod = await Deno.readTextFile(`${ROOT}mod.ts`);
  if (mod.split("\n").filter((l) => !/^\s*\*/.test(l)).join("\n").includes("Deno.")) {
    offenders.push("mod.ts");
  }
  assertEquals(offenders, []);
});

Deno.test("library: buildKnnGraph + infomap + evaluate on two clear groups; abort stops it", async () => {
  const rows = 40, dims = 16;
  const v = new Float32Array(rows * dims);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < dims; j++) {
      v[i * dims + j] = (j < 8) === (i < 20) ? 1 + ((i * j) % 5) / 50 : 0;
    }
  }
  const { knn, links, backend } = await buildKnnGraph(v, {
    dims,
    k: 20,
    minSim: 0.5,
    device: "cpu",
  });
  assertEquals([knn.n, knn.k, backend.split(" ")[0]], [rows, 20, "cpu"]);
  assertEquals(links.source.length, rows * 19);
  const { modules, nodeIds } = infomap(links);
  const truth = Array.from(nodeIds, (i) => (i < 20 ? "a" : "b"));
  assertEquals(evaluate(truth, Array.from(modules)).bcubed.f, 1);
  const controller = new AbortController();
  controller.abort();
  const aborted = await buildKnnGraph(v, { dims, k: 10, device: "cpu", signal: controller.signal })
    .then(() => null, (e) => e);
  assert(aborted instanceof DOMException && aborted.name === "AbortError", String(aborted));
  const bad = await buildKnnGraph(v, { dims: 7 }).then(() => null, (e) => e);
  assert(String(bad).includes("not a multiple of dims 7"), String(bad));
});

Deno.test({
  name: "library: embedFaces on paths, bytes and a broken image, with progress and abort",
  ignore: !hasShared("faces/bbt_faceapi"),
  async fn() {
    const files = [`${BBT}/amy/amy1.png`, `${BBT}/amy/amy2.png`, `${BBT}/raj/raj1.png`];
    const progress: number[] = [];
    const r = await embedFaces(
      [files[0], await Deno.readFile(files[1]), new Uint8Array([1, 2, 3]), files[2]],
      { onProgress: (done) => progress.push(done), keepChips: true },
    );
    assertEquals(progress, [1, 2, 3, 4]);
    assertEquals(r.failed.map((f) => f.image), [2]);
    assert(r.failed[0].error.includes("image 2"), r.failed[0].error);
    assertEquals(r.faces.map((f) => f.image), [0, 1, 3]);
    assertEquals(r.vectors.length, 3 * r.dims);
    assertEquals(r.faces[0].chip?.width, r.model.size);
    const dot = (a: number, b: number) => {
      let s = 0;
      for (let j = 0; j < r.dims; j++) s += r.vectors[a * r.dims + j] * r.vectors[b * r.dims + j];
      return s;
    };
    assert(dot(0, 1) > dot(0, 2), `amy–amy ${dot(0, 1)} vs amy–raj ${dot(0, 2)}`);
    const controller = new AbortController();
    const stopped = await embedFaces(files, {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    }).then(() => null, (e) => e);
    assert(stopped instanceof DOMException && stopped.name === "AbortError", String(stopped));
  },
});

Deno.test({
  name: "library: mod.ts imported by URL from 127.0.0.1 in a separate project clusters photos",
  async fn() {
    // the repository served read-only over HTTP, as a package host would
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        const path = decodeURIComponent(new URL(req.url).pathname);
        if (path.includes("..")) return new Response("no", { status: 403 });
        try {
          const body = await Deno.readFile(`${ROOT}${path.slice(1)}`);
          const type = path.endsWith(".ts") ? "application/typescript" : "application/octet-stream";
          return new Response(body, { headers: { "content-type": type } });
        } catch {
          return new Response("not found", { status: 404 });
        }
      },
    );
    const base = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
    const project = await Deno.makeTempDir({ prefix: "facecluster-user-" });
    try {
      // a small labeled set: three photos each of two people (links to the shared files); in a
      // clone without ../shared, one generated picture without a face (the models still load
      // over HTTP and the run completes)
      const real = hasShared("faces/bbt_faceapi");
      for (const [who, n] of [["amy", 3], ["raj", 3]] as const) {
        await Deno.mkdir(`${project}/photos/${who}`, { recursive: true });
        for (let i = 1; i <= (real ? n : 1); i++) {
          const to = `${project}/photos/${who}/${i}.png`;
          if (real) await Deno.symlink(`${BBT}/${who}/${who}${i}.png`, to);
          else await Deno.writeFile(to, await encodePng(patternImage(64, 64)));
        }
      }
      await Deno.writeTextFile(
        `${project}/main.ts`,
        `import { clusterFolder } from "${base}/mod.ts";
const stages = new Set<string>();
const r = await clusterFolder("photos", { onProgress: (s) => stages.add(s) });
console.log(JSON.stringify({
  faces: r.faces.length,
  clusters: r.numClusters,
  bcubed: r.evaluation?.metrics.bcubed.f,
  stages: [...stages],
  model: r.model.name,
}));
`,
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-lock", "--no-config", "--reload=" + base, "main.ts"],
        cwd: project,
        env: { FACECLUSTER_CACHE: `${project}/cache`, NO_COLOR: "1" },
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, stderr);
      const j = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
      assertEquals([j.faces, j.model], [real ? 6 : 0, "dlib"]);
      if (real) {
        assertEquals(j.bcubed, 1, JSON.stringify(j));
        for (const s of ["scan", "faces", "cluster"]) assert(j.stages.includes(s), s);
      } else {
        console.log("without ../shared: imported by URL, models loaded, no faces to cluster");
        for (const s of ["scan", "faces"]) assert(j.stages.includes(s), s);
      }
    } finally {
      await server.shutdown();
      await Deno.remove(project, { recursive: true });
    }
  },
});

Deno.test("library: deno publish --dry-run passes (licence, pinned npm versions, no slow types)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, text);
  assert(text.includes("Dry run complete"), text);
  for (const shipped of ["models/dlib_resnet.onnx", "shaders/knn_topk.wgsl", "mod.ts"]) {
    assert(text.includes(shipped), `${shipped} not in the package`);
  }
});
