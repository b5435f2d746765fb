// Crash safety: the main job killed with SIGKILL (kill -9) at random moments, ten times,
// never leaves the library inconsistent, and the run after them ends with the same people
// as a run that was never interrupted.

import { checkLibrary, partitionOf, temporaryFiles } from "../library_check.ts";
import {
  assert,
  assertEquals,
  hasShared,
  linkSharedPhotos,
  runCli,
  SHARED_MODELS,
  sharedPhotos,
  withSharedModels,
} from "../shared.ts";

const HAVE = hasShared("faces/lfw_min10") && SHARED_MODELS;

Deno.test({
  name: "library: kill -9 at ten random moments never corrupts it; then the same people",
  ignore: !HAVE,
  fn: () =>
    withSharedModels(async (cache, root) => {
      // a library of 120 photos; then each try adds 24 more, so that every run has work in
      // every stage (faces, kNN, clustering, the folders) when it is killed
      const files = sharedPhotos("lfw_min10").slice(0, 120 + 24 * 11);
      await linkSharedPhotos("lfw_min10", files.slice(0, 120), `${root}/in`);
      const args = (out: string) => [
        `${root}/in`,
        "--out",
        out,
        "--quiet",
        "--json",
        "--cache",
        cache,
      ];
      const first = await runCli(args(`${root}/crash`));
      assertEquals(first.code, 0, first.stderr);
      await linkSharedPhotos("lfw_min10", files.slice(120, 144), `${root}/in`);
      const t0 = performance.now();
      const step = await runCli(args(`${root}/crash`));
      assertEquals(step.code, 0, step.stderr);
      const full = (performance.now() - t0) / 1000;
      let seed = 20261202, killed = 0;
      const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
      for (let t = 0; t < 10; t++) {
        await linkSharedPhotos("lfw_min10", files.slice(144 + 24 * t, 168 + 24 * t), `${root}/in`);
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            new URL("../../cli.ts", import.meta.url).pathname,
            ...args(`${root}/crash`),
          ],
          stdout: "null",
          stderr: "null",
        }).spawn();
        const wait = (0.5 + 0.65 * rnd()) * full * 1000;
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
            killed++;
          } catch { /* it had finished */ }
        }, wait);
        const status = await child.status;
        clearTimeout(timer);
        const state = checkLibrary(`${root}/crash/library.db`);
        console.log(
          `try ${t + 1}: ${
            status.signal === "SIGKILL" ? `killed at ${(wait / 1000).toFixed(2)} s` : "finished"
          } (an uninterrupted run: ${
            full.toFixed(2)
          } s); library: ${state.photos} photos, ${state.faces} faces, consistent`,
        );
      }
      assert(killed >= 5, `only ${killed} of 10 runs were killed before they finished`);
      const last = await runCli(args(`${root}/crash`));
      assertEquals(last.code, 0, last.stderr);
      checkLibrary(`${root}/crash/library.db`);
      assertEquals(JSON.parse(last.stdout).photos, files.length);
      const ref = await runCli(args(`${root}/ref`));
      assertEquals(ref.code, 0, ref.stderr);
      assertEquals(await partitionOf(`${root}/crash`), await partitionOf(`${root}/ref`));
      // every file the folders should hold is there, and no temporary file is left over
      const ref2 = [...Deno.readDirSync(`${root}/ref`)].map((e) => e.name).sort();
      const crash2 = [...Deno.readDirSync(`${root}/crash`)].map((e) => e.name).sort();
      assertEquals(
        crash2.filter((n) => !n.startsWith("library.db")),
        ref2.filter((n) => !n.startsWith("library.db")),
      );
      assertEquals(temporaryFiles(`${root}/crash`), [], "temporary files left anywhere");
    }),
});
