import { sha256Hex } from "../../lib/io/hash.ts";
import { encodeJpeg, encodePng, encodePnm, patternImage } from "../image_fixtures.ts";
import { assert, assertEquals, hasShared, runCli, runEvaluate, SHARED } from "../shared.ts";

const run = runCli;

/** sha256 of every file under `dir`, by relative path. */
async function hashes(dir: string, rel = ""): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of Deno.readDir(`${dir}${rel}`)) {
    const p = `${rel}/${e.name}`;
    if (e.isDirectory) { for (const [k, v] of await hashes(dir, p)) out.set(k, v); }
    else if (e.isFile) out.set(p, await sha256Hex(await Deno.readFile(`${dir}${p}`)));
  }
  return out;
}

Deno.test("photos: bad files are listed and the run goes on; the input is untouched", async () => {
  const root = await Deno.makeTempDir();
  const input = `${root}/photos`;
  await Deno.mkdir(`${input}/trip`, { recursive: true });
  const jpeg = await encodeJpeg(patternImage(64, 48));
  await Deno.writeFile(`${input}/trip/ok.jpg`, jpeg);
  await Deno.writeFile(`${input}/trip/cut.jpg`, jpeg.subarray(0, jpeg.length >> 1));
  await Deno.writeFile(`${input}/trip/drawing.png`, await encodePng(patternImage(40, 40)));
  await Deno.writeFile(`${input}/scan.pgm`, encodePnm(patternImage(30, 20), "P5"));
  await Deno.writeTextFile(`${input}/notes.jpg`, "not a picture");
  // a PNG header claiming 60000×60000 pixels: refused before decoding
  const bomb = new Uint8Array(33);
  bomb.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(bomb.buffer).setUint32(16, 60000);
  new DataView(bomb.buffer).setUint32(20, 60000);
  await Deno.writeFile(`${input}/bomb.png`, bomb);
  const before = await hashes(input);
  const r = await run([input, "--json", "--quiet"]);
  assertEquals(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assertEquals(j.photos, 5);
  // every photo accounted for
  assertEquals(j.photos_with_faces + j.photos_without_faces + j.photos_failed, j.photos);
  assertEquals(j.faces, 0);
  assertEquals(j.failed.map((f: { file: string }) => f.file).sort(), ["bomb.png", "trip/cut.jpg"]);
  assert(
    j.failed.find((f: { file: string }) => f.file === "bomb.png").error.includes("over the limit"),
  );
  assertEquals(j.out, `${root}/photos_people`);
  const manifest = JSON.parse(await Deno.readTextFile(`${root}/photos_people/clusters.json`));
  assertEquals(manifest.skipped.map((s: { problem: string }) => s.problem), ["not an image"]);
  assertEquals(manifest.failed.length, 2);
  assertEquals(await hashes(input), before, "the input changed");
  // a second run updates the library there: nothing new, nothing written, the same failures
  const again = await run([input, "--json", "--quiet"]);
  assertEquals(again.code, 0, again.stderr);
  const j2 = JSON.parse(again.stdout);
  assertEquals([j2.changes.new_photos, j2.folders.written, j2.failed], [0, 0, j.failed]);
  // a non-empty folder that holds no library is refused without --force, and with it the
  // files there stay
  await Deno.mkdir(`${root}/other`);
  await Deno.writeTextFile(`${root}/other/mine.txt`, "x");
  const refused = await run([input, "--out", `${root}/other`, "--quiet"]);
  assert(refused.code !== 0 && refused.stderr.includes("no library (use --force"), refused.stderr);
  assertEquals((await run([input, "--out", `${root}/other`, "--quiet", "--force"])).code, 0);
  assertEquals(await Deno.readTextFile(`${root}/other/mine.txt`), "x");
  // an output folder inside the input is refused, and nothing is created there
  const inside = await run([input, "--out", `${input}/people`, "--quiet"]);
  assert(inside.code !== 0 && inside.stderr.includes("inside it"), inside.stderr);
  // and so is a library file there
  const lib = await run([input, "--library", `${input}/trip/library.db`, "--quiet"]);
  assert(lib.code !== 0 && lib.stderr.includes("inside the input"), lib.stderr);
  assertEquals(await hashes(input), before, "the input changed");
  await Deno.remove(root, { recursive: true });
});

Deno.test({
  name: "photos: bbt_faceapi end to end — one folder per person, manifest, crops, metrics",
  ignore: !hasShared("faces/bbt_faceapi"),
  fn: async () => {
    const input = `${SHARED}faces/bbt_faceapi`;
    const out = await Deno.makeTempDir();
    const ev = (extra: string[], env?: Record<string, string>) =>
      runEvaluate(input, out, ["--quiet", "--model", "dlib", ...extra], env);
    const { json: j } = await ev(["--link", "symbolic"]);
    assertEquals(j.photos, 40);
    assert(j.faces >= 38, `${j.faces} faces in 40 photos`);
    assert(j.metrics.bcubed.f >= 0.9 && j.metrics.nmi >= 0.95, JSON.stringify(j.metrics));
    const manifest = JSON.parse(await Deno.readTextFile(`${out}/clusters.json`));
    assertEquals(manifest.faces.length, j.faces);
    for (const f of manifest.faces) {
      const crop = `${out}/${f.folder}/faces/face_${String(f.id).padStart(6, "0")}.jpg`;
      assert((await Deno.stat(crop)).size > 0, `${crop} missing`);
      const photo = await Deno.lstat(`${out}/${f.folder}/${f.file.replaceAll("/", "__")}`);
      assert(photo.isSymlink, "--link symbolic");
    }
    const npy = await Deno.readFile(`${out}/embeddings.npy`);
    assert(npy.length >= j.faces * 128 * 4, "embeddings.npy too small");
    // person folders are numbered by size, largest first
    const sizes = manifest.clusters.filter((c: { size: number }) => c.size >= 2).map((
      c: { size: number },
    ) => c.size);
    assertEquals(sizes, [...sizes].sort((a: number, b: number) => b - a));
    // a re-run works on the library: nothing detected or embedded, nothing written, the
    // same embeddings and metrics
    const { json: j2 } = await ev([]);
    assertEquals([j2.changes.new_photos, j2.folders.written, j2.folders.moved], [0, 0, 0]);
    assert(j2.seconds.faces < 0.5, JSON.stringify(j2.seconds));
    assertEquals([...await Deno.readFile(`${out}/embeddings.npy`)], [...npy]);
    assertEquals(j2.metrics, j.metrics);
    // other embedding settings are refused on this library, with the way out named
    const flip = await runCli([input, "--out", out, "--quiet", "--model", "dlib", "--flip"]);
    assert(flip.code === 1 && flip.stderr.includes("--fresh"), flip.stderr);
    const { json: j3, stderr } = await ev(["--fresh", "--flip"]);
    assert(stderr === "" || j3.changes.new_photos === 40, stderr);
    assertEquals(j3.changes.new_photos, 40);
    assert(j3.metrics.bcubed.f >= 0.9, JSON.stringify(j3.metrics));
    const backups = [...Deno.readDirSync(out)].filter((e) => e.name.endsWith(".bak"));
    assertEquals(backups.length, 1, "--fresh keeps the earlier library");
    // the WASM face workers (where native inference is the default) find the same faces and
    // embeddings (cosine > 0.999) and the same clusters
    const { json: j4 } = await ev(["--fresh"], { FACECLUSTER_INFERENCE: "wasm" });
    assertEquals([j4.inference, j4.faces, j4.metrics], ["wasm", j.faces, j.metrics]);
    const npy4 = await Deno.readFile(`${out}/embeddings.npy`);
    const a = new Float32Array(npy.slice(128).buffer), b = new Float32Array(npy4.slice(128).buffer);
    let worst = 1;
    for (let r = 0; r < a.length / 128; r++) {
      let d = 0;
      for (let t = 0; t < 128; t++) d += a[r * 128 + t] * b[r * 128 + t];
      worst = Math.min(worst, d);
    }
    assert(worst > 0.999, `embeddings differ: lowest cosine ${worst}`);
    await Deno.remove(out, { recursive: true });
  },
});

Deno.test({
  name: "photos: orl_att (PGM) end to end with --evaluate",
  ignore: !hasShared("faces/orl_att"),
  fn: async () => {
    const out = await Deno.makeTempDir();
    const { json: j } = await runEvaluate(`${SHARED}faces/orl_att`, out, [
      "--quiet",
      "--link",
      "hard",
    ]);
    console.log(
      `orl_att: ${j.faces} faces in ${j.photos} photos, BCubed F ${
        j.metrics?.bcubed.f.toFixed(4)
      }, NMI ${j.metrics?.nmi.toFixed(4)}, ${j.seconds.total.toFixed(1)} s`,
    );
    assertEquals(j.photos, 400);
    assert(j.faces >= 380, `${j.faces} faces`);
    assert(j.metrics.bcubed.f >= 0.8 && j.metrics.nmi >= 0.9, JSON.stringify(j.metrics));
    await Deno.remove(out, { recursive: true });
  },
});
