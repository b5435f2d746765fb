// The single binary: `deno task compile` embeds the models, shaders and the kNN worker. Where
// `deno compile` can get its runtime (DENORT_BIN, or a network that reaches dl.deno.land) the
// binary is built and run on real photos; everywhere, the code is checked for what a compiled
// binary cannot do: load a file beside the source that the task does not include, or import
// a computed path.

import { assert, assertEquals, hasShared, SHARED } from "../shared.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
const task: string = config.tasks.compile;

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${ROOT}${dir}`)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await sources(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

Deno.test("compile: every import.meta.url-relative file is included; imports are literals", async () => {
  const includes = [...task.matchAll(/--include (\S+)/g)].map((m) => m[1]);
  const files = ["cli.ts", "mod.ts", ...await sources("lib")];
  const missing: string[] = [], computed: string[] = [];
  for (const f of files) {
    // code only: JSDoc examples and comments may show anything
    const text = (await Deno.readTextFile(`${ROOT}${f}`)).split("\n")
      .filter((l) => !/^\s*(\*|\/\/)/.test(l)).join("\n");
    for (const m of text.matchAll(/new URL\(\s*`?["'`]?([^"'`$]+)[^)]*import\.meta\.url\s*\)/g)) {
      const rel = new URL(m[1], `file://${ROOT}${f}`).pathname.slice(ROOT.length);
      if (rel.endsWith(".ts") && !rel.includes("worker")) continue; // a module in the graph
      if (!includes.some((inc) => rel === inc || rel.startsWith(`${inc}/`))) {
        missing.push(`${f}: ${rel}`);
      }
    }
    for (const m of text.matchAll(/\bimport\(\s*([^)]*)\)/g)) {
      if (!/^["'][^"']+["']$/.test(m[1].trim())) computed.push(`${f}: import(${m[1]})`);
    }
  }
  assertEquals(missing, [], "files loaded beside the source but not --include'd");
  assertEquals(computed, [], "dynamic imports of computed paths");
});

const denort = Deno.env.get("DENORT_BIN");
if (!denort) {
  console.log(
    "SKIP compile: deno compile needs its runtime (denort); set DENORT_BIN to a denort binary",
  );
}

Deno.test({
  name: "compile: the binary builds and clusters bbt_faceapi",
  ignore: !denort || !hasShared("faces/bbt_faceapi"),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const args = task.split(" ").slice(1).map((a) => a === "facecluster" ? `${dir}/fc` : a);
      const build = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT }).output();
      assertEquals(build.code, 0, new TextDecoder().decode(build.stderr));
      const run = await new Deno.Command(`${dir}/fc`, {
        args: [`${SHARED}faces/bbt_faceapi`, "--out", `${dir}/out`, "--json", "--evaluate"],
      }).output();
      assertEquals(run.code, 0, new TextDecoder().decode(run.stderr));
      const j = JSON.parse(new TextDecoder().decode(run.stdout));
      assert(j.metrics.bcubed.f >= 0.9, JSON.stringify(j.metrics));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
