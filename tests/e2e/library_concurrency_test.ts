// One writer at a time, for the whole run: two main jobs started at random offsets from each
// other, and decision commands fired during a run. Every process either finishes or is
// refused with a message naming the running process (exit 3); nothing crashes; reads work
// during a run; the library stays consistent (PRAGMA integrity_check and the invariants of
// tests/library_check.ts) and every photo is accounted for.

import { checkLibrary } from "../library_check.ts";
import { random } from "../decision_property.ts";
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
const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** A CLI process started now; its exit code and output when it ends. */
function start(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return child.output().then((o) => ({
    code: o.code,
    stdout: new TextDecoder().decode(o.stdout),
    stderr: new TextDecoder().decode(o.stderr),
  }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A refusal: exit 3 and a message naming the process that holds the library. */
function refused(r: { code: number; stderr: string }): boolean {
  return r.code === 3 && /another run \(process \d+, since [^)]+\) is writing this library/.test(
    r.stderr,
  );
}

/** No stack trace, no uncaught error in a process's output. */
function clean(r: { stderr: string }, what: string): void {
  assert(!/\n\s+at |TypeError|Uncaught/.test(r.stderr), `${what} crashed:\n${r.stderr}`);
}

Deno.test({
  name: "concurrency: two main jobs at random offsets — one finishes, the other is refused",
  ignore: !HAVE,
  fn: () =>
    withSharedModels(async (cache, root) => {
      const files = sharedPhotos("lfw_min10").slice(0, 40 + 6 * 10);
      await linkSharedPhotos("lfw_min10", files.slice(0, 40), `${root}/in`);
      const args = [`${root}/in`, "--out", `${root}/out`, "--quiet", "--json", "--cache", cache];
      const first = await runCli(args);
      assertEquals(first.code, 0, first.stderr);
      await linkSharedPhotos("lfw_min10", files.slice(40, 46), `${root}/in`);
      const t0 = performance.now();
      const timed = await runCli(args);
      assertEquals(timed.code, 0, timed.stderr);
      const full = performance.now() - t0;
      const rnd = random(20261207);
      let refusals = 0;
      for (let t = 0; t < 10; t++) {
        const n = 46 + 6 * t;
        await linkSharedPhotos("lfw_min10", files.slice(n, n + 6), `${root}/in`);
        const offset = rnd() * full;
        const a = start(args);
        await sleep(offset);
        const b = start(args);
        const [ra, rb] = await Promise.all([a, b]);
        for (const [r, who] of [[ra, "the first"], [rb, "the second"]] as const) {
          clean(r, who);
          assert(r.code === 0 || refused(r), `${who} run: exit ${r.code}\n${r.stderr}`);
        }
        assert(ra.code === 0 || rb.code === 0, "one of the two finishes");
        if (ra.code !== 0 || rb.code !== 0) refusals++;
        const state = checkLibrary(`${root}/out/library.db`);
        console.log(
          `try ${t + 1}: second started ${(offset / 1000).toFixed(2)} s after the first (a run: ${
            (full / 1000).toFixed(2)
          } s): exits ${ra.code}, ${rb.code}; ${state.photos} photos, consistent`,
        );
      }
      assert(refusals >= 1, "at least one run started while the other was writing");
      const last = await runCli(args);
      assertEquals(last.code, 0, last.stderr);
      const j = JSON.parse(last.stdout);
      assertEquals(j.photos, files.length);
      assertEquals(j.photos_with_faces + j.photos_without_faces + j.photos_failed, files.length);
      checkLibrary(`${root}/out/library.db`);
    }),
});

Deno.test({
  name: "concurrency: decisions during a run wait or are refused by name, reads go on, no crash",
  ignore: !HAVE,
  fn: () =>
    withSharedModels(async (cache, root) => {
      const files = sharedPhotos("lfw_min10").slice(0, 60 + 4 * 20);
      await linkSharedPhotos("lfw_min10", files.slice(0, 60), `${root}/in`);
      const out = `${root}/out`;
      const args = [`${root}/in`, "--out", out, "--quiet", "--json", "--cache", cache];
      const first = await runCli(args);
      assertEquals(first.code, 0, first.stderr);
      const rnd = random(7);
      const outcomes: Record<string, number> = {};
      for (let t = 0; t < 20; t++) {
        const n = 60 + 4 * t;
        await linkSharedPhotos("lfw_min10", files.slice(n, n + 4), `${root}/in`);
        const people = JSON.parse((await runCli(["people", out, "--json"])).stdout);
        const faces = JSON.parse(
          (await runCli(["faces", out, String(people[0].id), "--json"]))
            .stdout,
        );
        const commands = [
          ["people", out],
          ["faces", out],
          ["history", out],
          ["merge", out, String(people[0].id), String(people[1].id)],
          ["name", out, String(people[0].id), `Person ${t}`],
          ["move", out, String(faces.at(-1).id), "--to", "new"],
          ["not-person", out, String(faces.at(-1).id)],
          ["undo", out],
        ];
        const command = commands[Math.floor(rnd() * commands.length)];
        const wait = rnd() < 0.5 ? "0" : "2";
        const run = start(args);
        await sleep(300 + rnd() * 2500);
        const d = await runCli([...command, "--json", "--wait", wait]);
        const r = await run;
        clean(r, "the main job");
        clean(d, command[0]);
        assertEquals(r.code, 0, r.stderr);
        const reads = ["people", "faces", "history"].includes(command[0]);
        if (reads) assertEquals(d.code, 0, `${command[0]} during a run: ${d.stderr}`);
        else {
          assert(d.code === 0 || refused(d), `${command[0]}: exit ${d.code}\n${d.stderr}`);
          if (d.code === 3) {
            // the message names the main job's process; the library holds no half decision
            assert(d.stderr.includes("process "), d.stderr);
          }
        }
        const key = `${command[0]} ${d.code === 0 ? "done" : "refused"}`;
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        checkLibrary(`${out}/library.db`);
      }
      console.log(
        `20 decision commands during runs: ${
          Object.entries(outcomes).map(([k, n]) => `${k} ${n}`).join(", ")
        }`,
      );
      const last = await runCli(args);
      assertEquals(last.code, 0, last.stderr);
      assertEquals(JSON.parse(last.stdout).photos, files.length);
    }),
});
