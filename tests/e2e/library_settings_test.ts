// The library owns its settings: libraries made with other detector thresholds, with crop
// mode and mirrored faces, and with a model given as PATH.onnx are re-clustered from the
// command line (`recluster`) and from the review page's request (the library's own
// re-cluster, no callback given) with the settings they were made with (on c9aba41 the
// review page answered 400 "made with other detector settings" for the first). And the
// demo keeps its photos where its library finds them, so `review demo_people` shows them.

import { MOBILEFACENET } from "../../lib/embed/models.ts";
import { Library } from "../../lib/library/library.ts";
import { startReview } from "../../lib/review/server.ts";
import {
  assert,
  assertEquals,
  hasShared,
  linkSharedPhotos,
  runCli,
  SHARED,
  SHARED_MODELS,
  sharedPhotos,
  withSharedModels,
} from "../shared.ts";

const HAVE = hasShared("faces/bbt_faceapi") && SHARED_MODELS;

// deno-lint-ignore no-explicit-any -- the CLI's JSON
type Json = any;

/** A library of bbt_faceapi made with `extra`, re-clustered by the CLI and by the page. */
async function reclusterBoth(cache: string, root: string, name: string, extra: string[]) {
  const input = `${root}/${name}`, out = `${input}_people`;
  await linkSharedPhotos("bbt_faceapi", sharedPhotos("bbt_faceapi"), input);
  const made = await runCli([input, "--out", out, "--quiet", "--json", "--cache", cache, ...extra]);
  assertEquals(made.code, 0, made.stderr);
  const first: Json = JSON.parse(made.stdout);
  // the command line, with nothing but the library
  const r = await runCli(["recluster", out, "--json", "--quiet", "--cache", cache]);
  assertEquals(r.code, 0, `${name}: ${r.stderr}`);
  const again: Json = JSON.parse(r.stdout);
  assertEquals(again.people, first.people, `${name}: the same people`);
  assertEquals(again.changes.faces_moved, 0);
  // the page: a decision, then "re-cluster" with the library's own settings
  const lib = await Library.open(`${out}/library.db`);
  const server = await startReview(lib, { cacheDir: cache });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const post = (body: unknown) =>
      fetch(`${base}/api/decide`, {
        method: "POST",
        headers: { "x-facecluster-token": server.token, origin: base },
        body: JSON.stringify(body),
      });
    const [p] = await lib.people();
    const named = await post({ action: "name", person: p.id, name: "Penny" });
    assertEquals(named.status, 200, await named.text());
    const rc = await post({ action: "recluster" });
    const text = await rc.text();
    assertEquals(rc.status, 200, `${name}: ${text}`);
    assert(JSON.parse(text).summary.startsWith("re-clustered:"), text);
    assert(Deno.statSync(`${out}/Penny`).isDirectory, "the folder follows the name");
    const s = await lib.settings();
    return { settings: s!, first };
  } finally {
    await server.close();
    await lib.close();
  }
}

Deno.test({
  name: "settings: --min-confidence 0.8 --min-face-size 40 re-clustered from the CLI and the page",
  ignore: !HAVE,
  fn: () =>
    withSharedModels(async (cache, root) => {
      const { settings } = await reclusterBoth(cache, root, "thresholds", [
        "--min-confidence",
        "0.8",
        "--min-face-size",
        "40",
      ]);
      assertEquals(settings.detector.minConfidence, 0.8);
      assertEquals(settings.detector.minFaceSize, 40);
    }),
});

Deno.test({
  name: "settings: --crops --flip re-clustered from the CLI and the page",
  ignore: !HAVE,
  fn: () =>
    withSharedModels(async (cache, root) => {
      const { settings } = await reclusterBoth(cache, root, "crops", ["--crops", "--flip"]);
      assert(settings.detector.crop && settings.flip);
    }),
});

Deno.test({
  name: "settings: a PATH.onnx model re-clustered from the CLI and the page",
  ignore: !(HAVE && hasShared("models/mobilefacenet_foamliu/MobileFaceNet.onnx")),
  fn: () =>
    withSharedModels(async (cache, root) => {
      await Deno.copyFile(
        `${SHARED}models/mobilefacenet_foamliu/MobileFaceNet.onnx`,
        `${root}/mine.onnx`,
      );
      await Deno.writeTextFile(
        `${root}/mine.json`,
        JSON.stringify({ name: "mine", ...MOBILEFACENET.normalize, minSim: 0.45 }),
      );
      const { settings } = await reclusterBoth(cache, root, "onnx", [
        "--model",
        `${root}/mine.onnx`,
      ]);
      assertEquals([settings.model.name, settings.model.file], ["mine", `${root}/mine.onnx`]);
    }),
});

Deno.test({
  name: "demo: its photos stay beside its library, and `review demo_people` serves one",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("../../cli.ts", import.meta.url).pathname, "demo", "--quiet"],
        cwd: dir,
        env: { FACECLUSTER_CACHE: `${dir}/empty-cache` },
      }).output();
      assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
      assertEquals([...Deno.readDirSync(`${dir}/demo_photos`)].length, 6);
      const review = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../../cli.ts", import.meta.url).pathname,
          "review",
          "demo_people",
        ],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      try {
        const reader = review.stdout.pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        while (!/open (http\S+)/.test(text)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
        }
        const url = new URL(/open (http\S+)/.exec(text)![1]);
        const t = url.searchParams.get("t")!;
        const people = await (await fetch(`${url.origin}/api/people?t=${t}`)).json();
        const person = await (await fetch(`${url.origin}/api/person/${people.people[0].id}?t=${t}`))
          .json();
        const photo = await fetch(`${url.origin}/photo/${person.faces[0].id}?t=${t}`);
        assertEquals(photo.status, 200);
        assertEquals(photo.headers.get("content-type"), "image/jpeg");
        assert((await photo.arrayBuffer()).byteLength > 1000, "a real picture");
        reader.releaseLock();
      } finally {
        review.kill("SIGINT");
        await review.status;
        await review.stderr.cancel();
        await review.stdout.cancel().catch(() => {});
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
