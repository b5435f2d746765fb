import { assert, assertEquals, hasShared, runCli, runEvaluate, SHARED } from "../shared.ts";

Deno.test({
  name: "models: fetch MobileFaceNet from a mirror on 127.0.0.1, then it is the default model",
  ignore: !hasShared("models/mobilefacenet_foamliu") || !hasShared("faces/bbt_faceapi"),
  fn: async () => {
    const dir = `${SHARED}models/mobilefacenet_foamliu`;
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        const name = new URL(req.url).pathname.slice(1);
        try {
          return new Response(await Deno.readFile(`${dir}/${name}`));
        } catch {
          return new Response("no", { status: 404 });
        }
      },
    );
    const env = {
      FACECLUSTER_MODEL_MIRROR: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    };
    const cache = await Deno.makeTempDir();
    const out = await Deno.makeTempDir();
    try {
      assert((await runCli(["models", "list", "--cache", cache])).stdout.includes("not fetched"));
      const f = await runCli(["models", "fetch", "mobilefacenet", "--cache", cache], env);
      assertEquals(f.code, 0, f.stderr);
      assertEquals((f.stdout.match(/verified/g) ?? []).length, 2);
      assert((await runCli(["models", "list", "--cache", cache])).stdout.includes(`in ${cache}`));
      const { json: j } = await runEvaluate(`${SHARED}faces/bbt_faceapi`, out, [
        "--cache",
        cache,
        "--quiet",
      ]);
      assertEquals([j.model, j.min_sim], ["mobilefacenet", 0.45]);
      console.log(
        `bbt_faceapi with MobileFaceNet: BCubed F ${j.metrics.bcubed.f.toFixed(4)}, NMI ${
          j.metrics.nmi.toFixed(4)
        }`,
      );
      assert(j.metrics.bcubed.f >= 0.9, JSON.stringify(j.metrics));
      // an unknown model is a clear error
      const bad = await runCli([
        `${SHARED}faces/bbt_faceapi`,
        "--model",
        "nope",
        "--out",
        out,
        "--force",
      ]);
      assert(bad.code !== 0 && bad.stderr.includes("unknown model 'nope'"), bad.stderr);
      // a model file by path: checked and described
      const c = await runCli(["models", "check", `${cache}/MobileFaceNet.onnx`]);
      assertEquals(c.code, 0, c.stderr);
      assert(c.stdout.includes("112×112 → 128-d (runs: yes)"), c.stdout);
      const missing = await runCli(["models", "check", `${out}/none.onnx`]);
      assert(
        missing.code !== 0 && missing.stderr.includes("none.onnx: cannot read"),
        missing.stderr,
      );
    } finally {
      await server.shutdown();
      await Deno.remove(cache, { recursive: true });
      await Deno.remove(out, { recursive: true });
    }
  },
});
