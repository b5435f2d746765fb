import { FaceDetector } from "../../lib/detect/detector.ts";
import { decodeYunet, toPhoto, yunetInput } from "../../lib/detect/yunet.ts";
import { decodeImage } from "../../lib/image/decode.ts";
import { faceQuality, pointsFitBox } from "../../lib/pipeline/quality.ts";
import { wholePictureFace } from "../../lib/pipeline/photo_faces.ts";
import { matchTruth, readGroupTruth } from "../group_truth.ts";
import { encodePng, patternImage } from "../image_fixtures.ts";
import {
  assert,
  assertClose,
  assertEquals,
  hasShared,
  runCli,
  runEvaluate,
  SHARED,
  SHARED_MODELS,
  sharedModelCache,
  withSharedModels,
} from "../shared.ts";

/** Copies (the first `count` photos of) each person of a ../shared/faces set to `dest/<person>`. */
async function copyPeople(set: string, people: string[], dest: string, count?: number) {
  for (const who of people) {
    await Deno.mkdir(`${dest}/${who}`, { recursive: true });
    const files = [...Deno.readDirSync(`${SHARED}faces/${set}/${who}`)].map((e) => e.name)
      .sort().slice(0, count);
    for (const f of files) {
      await Deno.copyFile(`${SHARED}faces/${set}/${who}/${f}`, `${dest}/${who}/${f}`);
    }
  }
}

Deno.test("yunet: the input is the photo as BGR, shrunk (never enlarged), padded to 32", () => {
  const img = patternImage(250, 200);
  const a = yunetInput(img, 640);
  assertEquals([a.width, a.height, a.scale, a.border], [256, 224, 1, 0]);
  const plane = a.width * a.height, p = 10 * a.width + 7;
  const s = (10 * 250 + 7) * 3;
  assertEquals([a.data[p], a.data[plane + p], a.data[2 * plane + p]], [
    img.data[s + 2],
    img.data[s + 1],
    img.data[s],
  ]);
  assertEquals(a.data[250], 0); // padding is black
  const b = yunetInput(patternImage(1000, 500), 320);
  assertEquals([b.width, b.height, b.scale], [320, 160, 0.32]);
  // crop mode: a border of 56 photo pixels around a 112×112 crop
  const c = yunetInput(patternImage(112, 112), 640, 56);
  assertEquals([c.width, c.height, c.border], [224, 224, 56]);
});

Deno.test("yunet: outputs decode by OpenCV's rule, thresholded and suppressed, back to photo pixels", () => {
  const W = 64, H = 64;
  const out: Record<string, { data: Float32Array }> = {};
  for (const s of [8, 16, 32]) {
    const cells = (W / s) * (H / s);
    out[`cls_${s}`] = { data: new Float32Array(cells) };
    out[`obj_${s}`] = { data: new Float32Array(cells) };
    out[`bbox_${s}`] = { data: new Float32Array(cells * 4) };
    out[`kps_${s}`] = { data: new Float32Array(cells * 10) };
  }
  // stride 16, row 1, col 2 (cell 6): cls 0.9, obj 1.0 → score sqrt(0.9)
  const i = 1 * 4 + 2;
  out.cls_16.data[i] = 0.9;
  out.obj_16.data[i] = 1.2; // clamped to 1
  out.bbox_16.data.set([0.5, 0.25, Math.log(2), Math.log(3)], i * 4);
  out.kps_16.data.set([0, 0, 1, 0, 0.5, 0.5, 0, 1, 1, 1], i * 10);
  // the same face, a little weaker, at stride 8: suppressed by NMS
  const j = 3 * 8 + 5;
  out.cls_8.data[j] = 0.8;
  out.obj_8.data[j] = 0.8;
  out.bbox_8.data.set([0, 0, Math.log(4), Math.log(6)], j * 4);
  // a weak one elsewhere: under the threshold
  out.cls_32.data[3] = 0.3;
  out.obj_32.data[3] = 0.3;
  const faces = decodeYunet(out, W, H, 0, { minScore: 0.7 });
  assertEquals(faces.length, 1);
  const f = faces[0];
  assertClose(f.score, Math.sqrt(0.9), 1e-6);
  // centre ((2 + 0.5)·16, (1 + 0.25)·16) = (40, 20), size (32, 48)
  assertClose(f.box.x, 24, 1e-4);
  assertClose(f.box.y, -4, 1e-4);
  assertClose(f.box.width, 32, 1e-4);
  assertClose(f.box.height, 48, 1e-4);
  assertEquals(f.points.map(([x, y]) => [x, y]), [[32, 16], [48, 16], [40, 24], [32, 32], [
    48,
    32,
  ]]);
  // an input made with scale 0.5 and a border of 10 photo pixels maps back
  const p = toPhoto(f, { data: new Float32Array(0), width: W, height: H, scale: 0.5, border: 10 }, {
    width: 200,
    height: 200,
  })!;
  assertEquals(p.points[0], [54, 22]);
  assertClose(p.box.x, 38, 1e-4);
  assertEquals(p.box.y, 0); // clipped to the photo
});

Deno.test("quality: points that contradict the box, and the embedding norm ramp", () => {
  const box = { x: 100, y: 100, width: 100, height: 100 };
  const upright: [number, number][] = [[130, 140], [170, 140], [150, 160], [135, 180], [165, 180]];
  assert(pointsFitBox(box, upright));
  // the same face turned 90° (the junk person's "rotated faces"), or points outside the box
  const turned = upright.map(([x, y]): [number, number] => [300 - y, x]);
  assert(!pointsFitBox(box, turned));
  assert(!pointsFitBox(box, upright.map(([x, y]): [number, number] => [x + 80, y])));
  assertEquals(faceQuality({ box, points: turned, norm: 20, normRange: [10, 13] }), 0);
  assertEquals(faceQuality({ box, points: upright, norm: 10, normRange: [10, 13] }), 0.5);
  assertEquals(faceQuality({ box, points: upright, norm: 14, normRange: [10, 13] }), 1);
  assertEquals(faceQuality({ box, points: upright, norm: 3, normRange: null }), 1);
  assertEquals(faceQuality({ box, points: upright, norm: NaN, normRange: [10, 13] }), 1);
  // a whole picture is a centred ArcFace face, scaled by its longer side
  const w = wholePictureFace({ width: 92, height: 112 });
  assertEquals(w.source, "whole");
  assertClose(w.landmarks[2][0], 56.0252 - 56 + 46, 1e-9);
  assertEquals(
    faceQuality({ box: w.box, points: w.landmarks, norm: 20, normRange: [10, 13], whole: true }),
    1,
  );
});

Deno.test({
  name: "yunet: fetched from a mirror on 127.0.0.1; group_photos against the hand-drawn boxes",
  ignore: !SHARED_MODELS || !hasShared("faces/_meta/group_photos"),
  fn: async () => {
    const models = await sharedModelCache(["yunet"]);
    try {
      const det = await FaceDetector.load({
        detector: "yunet",
        refine: false,
        cacheDir: models.cache,
      });
      const truth = await readGroupTruth();
      let found = 0, annotated = 0, extra = 0;
      for (const [file, gts] of truth) {
        const path = `${SHARED}faces/group_photos/${file}`;
        const faces = await det.detect(await decodeImage(await Deno.readFile(path), path), {
          minFaceSize: 0,
        });
        for (const f of faces) assertEquals(f.landmarks.length, 5);
        const m = matchTruth(gts, faces.map((f) => f.box));
        found += m.found;
        annotated += m.found + m.missed;
        extra += m.extra;
      }
      await det.release();
      console.log(`group_photos, YuNet: ${found}/${annotated} faces found, ${extra} unmatched`);
      assert(found >= 42 && annotated === 43, `${found}/${annotated}`);
      assert(extra <= 1, `${extra} detections match no annotated face`);
    } finally {
      await models.close();
    }
  },
});

Deno.test({
  name: "yunet: crop mode — every picture a face, no face found or failed, all counted",
  ignore: !SHARED_MODELS || !hasShared("faces/bbt_faceapi"),
  fn: () =>
    withSharedModels(async (cache, root) => {
      // six real crops of two people, a picture with no face in it and a broken file
      await copyPeople("bbt_faceapi", ["amy", "sheldon"], `${root}/in`, 3);
      await Deno.writeFile(`${root}/in/amy/wall.png`, await encodePng(patternImage(112, 112)));
      await Deno.writeFile(
        `${root}/in/sheldon/broken.png`,
        new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
      );
      const common = ["--quiet", "--cache", cache];
      const { json: plain } = await runEvaluate(`${root}/in`, `${root}/a`, common);
      assertEquals(plain.detector, "yunet+68");
      assertEquals(
        [plain.photos, plain.photos_with_faces, plain.photos_without_faces, plain.photos_failed],
        [8, 6, 1, 1],
      );
      // the lost photos count against recall: 6 of 8 labeled photos covered
      assertClose(plain.coverage, 6 / 8, 1e-12);
      assert(plain.metrics.bcubed.recall < 1, JSON.stringify(plain.metrics));
      const { json: crops } = await runEvaluate(`${root}/in`, `${root}/b`, [...common, "--crops"]);
      assertEquals(
        [crops.photos_with_faces, crops.photos_without_faces, crops.photos_failed],
        [7, 0, 1],
      );
      assertEquals(crops.crop_mode, { detected: 6, whole: 1 });
      const manifest = JSON.parse(await Deno.readTextFile(`${root}/b/clusters.json`));
      assertEquals(manifest.accounting, { with_faces: 7, without_faces: 0, failed: 1 });
      assertEquals(
        manifest.faces.filter((f: { source: string }) => f.source === "whole").length,
        1,
      );
      const html = await Deno.readTextFile(`${root}/b/report.html`);
      assert(html.includes("7 with a face, 0 without a face, 1 failed"), "report accounting");
      // the library keeps the embedding norms too: a re-run gates the same faces, and the
      // photo without a face and the broken one are not read again
      const qualities = async (out: string) =>
        JSON.parse(await Deno.readTextFile(`${out}/clusters.json`)).faces.map((
          f: { quality: number },
        ) => f.quality);
      const first = await qualities(`${root}/a`);
      const { json: again } = await runEvaluate(`${root}/in`, `${root}/a`, common);
      assert(again.seconds.faces < 0.5, JSON.stringify(again.seconds));
      assertEquals(again.changes.new_photos, 0);
      assertEquals(await qualities(`${root}/a`), first);
      assertEquals([again.photos_without_faces, again.photos_failed], [1, 1]);
      const text = await runCli([`${root}/in`, "--out", `${root}/c`, ...common, "--crops"]);
      assert(
        text.stdout.includes("crop mode: 6 pictures with a detected face, 1 taken whole"),
        text.stdout,
      );
    }),
});

Deno.test({
  name: "yunet: orl_att (tight PGM crops) in crop mode — all 400 photos counted, one person each",
  ignore: !SHARED_MODELS || !hasShared("faces/orl_att"),
  fn: () =>
    withSharedModels(async (cache, out) => {
      const { json: j } = await runEvaluate(`${SHARED}faces/orl_att`, out, [
        "--quiet",
        "--crops",
        "--cache",
        cache,
      ]);
      console.log(
        `orl_att, YuNet + MobileFaceNet, crop mode: ${j.faces} faces, coverage ${j.coverage}, BCubed F ${
          j.metrics.bcubed.f.toFixed(4)
        }, ${j.seconds.total.toFixed(1)} s`,
      );
      assertEquals([j.photos, j.labeled_photos, j.coverage], [400, 400, 1]);
      assert(j.metrics.bcubed.f >= 0.99, JSON.stringify(j.metrics));
    }),
});

Deno.test({
  name: "quality gate: false and unusable faces go to not_faces/, never into a person",
  ignore: !SHARED_MODELS || !hasShared("faces/lfw_min10"),
  fn: () =>
    withSharedModels(async (cache, root) => {
      // two LFW people whose photos hold cut, blurred and turned second faces
      await copyPeople("lfw_min10", ["Abdullah_Gul", "Adrien_Brody"], `${root}/in`);
      const { json: j } = await runEvaluate(`${root}/in`, `${root}/out`, [
        "--quiet",
        "--cache",
        cache,
      ]);
      const manifest = JSON.parse(await Deno.readTextFile(`${root}/out/clusters.json`));
      type F = { folder: string; quality: number; norm: number | null; id: number };
      const gated = manifest.faces.filter((f: F) => f.folder === "not_faces");
      console.log(
        `gate: ${gated.length} of ${j.faces} faces not faces (${
          gated.filter((f: F) => f.quality === 0).length
        } by their points), coverage ${j.coverage}, BCubed F ${j.metrics.bcubed.f.toFixed(4)}`,
      );
      assert(gated.length >= 2, `${gated.length} gated faces`);
      assertEquals(j.not_faces, gated.length);
      assertEquals(manifest.quality_gate, { min_quality: 0.5, not_faces: gated.length });
      assert(gated.some((f: F) => f.quality === 0), "no face gated by its points");
      assert(gated.some((f: F) => f.quality > 0 && f.norm! < 10), "no face gated by its norm");
      for (const f of manifest.faces as F[]) {
        assertEquals(f.quality < 0.5, f.folder === "not_faces", `face ${f.id} in ${f.folder}`);
      }
      for (const f of gated) {
        await Deno.stat(`${root}/out/not_faces/faces/face_${String(f.id).padStart(6, "0")}.jpg`);
      }
      assertEquals(j.coverage, 1); // no photo lost its own face to the gate
      const html = await Deno.readTextFile(`${root}/out/report.html`);
      assert(html.includes(`Not faces (below the quality gate, in no person): ${gated.length}`));
      assert(html.indexOf('id="not-faces"') > html.indexOf('id="unclustered"'), "shown last");
    }),
});
