import { buildKernelModule } from "../tools/build_wasm.ts";
import { assertEquals } from "./shared.ts";

Deno.test("tools/build_wasm: the embedded kernel is what dot_kernel.wat assembles to", async () => {
  const fresh = await buildKernelModule();
  const committed = await Deno.readTextFile(
    new URL("../lib/knn/dot_kernel_wasm.ts", import.meta.url),
  );
  assertEquals(committed === fresh, true, "run: deno run -A tools/build_wasm.ts");
});
