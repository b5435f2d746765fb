import { buildKernelModule } from "../../tools/build_wasm.ts";
import { assertEquals } from "../shared.ts";

Deno.test("tools/build_wasm: the embedded kernel is what dot_kernel.wat assembles to", async () => {
  const fresh = await buildKernelModule();
  const committed = await Deno.readTextFile(
    new URL("../../lib/knn/dot_kernel_wasm.ts", import.meta.url),
  );
  assertEquals(committed === fresh, true, "run: deno run -A tools/build_wasm.ts");
});

Deno.test("tools/gpu_check.sh and gpu_pack.sh: valid bash; every script the check runs exists and type-checks", async () => {
  const root = new URL("../../", import.meta.url);
  for (const f of ["tools/gpu_check.sh", "tools/gpu_pack.sh"]) {
    const r = await new Deno.Command("bash", { args: ["-n", new URL(f, root).pathname] }).output();
    assertEquals(r.success, true, `${f}: ${new TextDecoder().decode(r.stderr)}`);
  }
  const check = await Deno.readTextFile(new URL("tools/gpu_check.sh", root));
  const scripts = [...new Set(check.match(/bench\/[a-z_]+\.(?:ts|py)/g))];
  assertEquals(scripts.length >= 4, true, scripts.join());
  const ts = scripts.filter((s) => s.endsWith(".ts"));
  for (const s of scripts) await Deno.stat(new URL(s, root));
  // the check runs them with --no-config: they must type-check without the import map
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--no-config", ...ts],
    cwd: root.pathname,
    stderr: "piped",
    stdout: "piped",
  }).output();
  assertEquals(r.success, true, new TextDecoder().decode(r.stderr).slice(-2000));
});
