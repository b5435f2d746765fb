/**
 * Face detectors side by side on the same photos in one run: face-api's SSD (+ 68-point
 * landmarks) and YuNet (own five points, or refined by the 68-point network) at several
 * score thresholds. On `group_photos` (hand-drawn boxes): annotated faces found, missed and
 * detections that match none; on other sets: ms per photo and photos with no face.
 *
 * Run: `FACECLUSTER_CACHE=<cache with YuNet> deno run -A bench/detect.ts [--scores 0.5,0.6,0.7]
 * [--sets group_photos,lfw_min10:300,orl_att:100]` (a set's `:N` takes its first N photos).
 * Prints Markdown rows for BENCHMARKS.md.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { FaceDetector } from "../lib/detect/detector.ts";
import { loadOnnxModel, nativeInferenceAvailable } from "../lib/embed/onnx_runtime.ts";
import { YUNET } from "../lib/detect/yunet.ts";
import { decodeImage } from "../lib/image/decode.ts";
import type { RgbImage } from "../lib/image/types.ts";
import { scanFolder } from "../lib/scan/scan.ts";
import { FaceEmbedder } from "../lib/embed/embedder.ts";
import { isModelAvailable, MOBILEFACENET } from "../lib/embed/models.ts";
import { modelCacheDir } from "../lib/embed/download.ts";
import { fivePoints } from "../lib/align/templates.ts";
import { faceQuality } from "../lib/pipeline/quality.ts";
import { matchTruth, readGroupTruth } from "../tests/group_truth.ts";

const SHARED = new URL("../../shared/faces/", import.meta.url).pathname;
const { values } = parseArgs({
  args: Deno.args,
  options: {
    scores: { type: "string", default: "0.5,0.6,0.7,0.8" },
    sets: { type: "string", default: "group_photos,five_celebrity,lfw_min10:400,orl_att:100" },
  },
});
const device = (await nativeInferenceAvailable()) ? "native" : "wasm";
const truth = await readGroupTruth();

/** The decoded photos of a set (the first `limit`). */
async function photos(spec: string): Promise<{ name: string; images: [string, RgbImage][] }> {
  const [name, limit] = spec.split(":");
  const scan = await scanFolder(`${SHARED}${name}`);
  const list = scan.images.slice(0, limit ? Number(limit) : undefined);
  const images: [string, RgbImage][] = [];
  for (const e of list) {
    try {
      images.push([e.relative, await decodeImage(await Deno.readFile(e.path), e.relative)]);
    } catch { /* a bad file is not a detector's business */ }
  }
  return { name, images };
}

const sets = await Promise.all(values.sets.split(",").map(photos));
const variants: { label: string; kind: "ssd" | "yunet"; refine: boolean; score: number }[] = [
  { label: "SSD + 68", kind: "ssd", refine: true, score: 0.5 },
];
for (const s of values.scores.split(",").map(Number)) {
  variants.push({ label: `YuNet ${s}`, kind: "yunet", refine: false, score: s });
}
for (const s of values.scores.split(",").map(Number)) {
  variants.push({ label: `YuNet ${s} + 68`, kind: "yunet", refine: true, score: s });
}

console.log(`face models on ${device}; crop mode for orl_att and bbt_faceapi`);
console.log(
  "| detector | set | photos | ms/photo | photos with no face | faces | found / annotated | unmatched |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const v of variants) {
  const det = await FaceDetector.load({ device, detector: v.kind, refine: v.refine });
  for (const { name, images } of sets) {
    const crop = name === "orl_att" || name === "bbt_faceapi";
    // warm-up
    await det.detect(images[0][1], { minConfidence: v.score, crop });
    let none = 0, faces = 0, found = 0, annotated = 0, extra = 0;
    const t0 = performance.now();
    for (const [file, img] of images) {
      const got = await det.detect(img, {
        minConfidence: v.score,
        minFaceSize: name === "group_photos" ? 0 : 20,
        crop,
      });
      faces += got.length;
      if (got.length === 0) none++;
      const gts = truth.get(file);
      if (gts) {
        const m = matchTruth(gts, got.map((f) => f.box));
        found += m.found;
        annotated += m.found + m.missed;
        extra += m.extra;
      }
    }
    const ms = (performance.now() - t0) / images.length;
    console.log(
      `| ${v.label} | ${name} | ${images.length} | ${ms.toFixed(1)} | ${none} | ${faces} | ${
        annotated ? `${found} / ${annotated}` : "–"
      } | ${annotated ? extra : "–"} |`,
    );
  }
  await det.release();
}

// the quality gate on group_photos: YuNet + 68 at its default score, MobileFaceNet's norms
if (await isModelAvailable(MOBILEFACENET, modelCacheDir())) {
  const det = await FaceDetector.load({ device, detector: "yunet" });
  const emb = await FaceEmbedder.load(MOBILEFACENET, { device });
  const group = sets.find((s) => s.name === "group_photos");
  let realGated = 0, falseKept = 0, falseGated = 0, real = 0;
  for (const [file, img] of group?.images ?? []) {
    const gts = truth.get(file);
    if (!gts) continue;
    const faces = await det.detect(img, { minFaceSize: 0 });
    const { norms } = await emb.embedWithNorms(faces.map((f) => emb.chip(img, f.landmarks)));
    const m = matchTruth(gts, faces.map((f) => f.box));
    const matched = new Set(m.pairs.map(([, i]) => i));
    faces.forEach((f, i) => {
      const q = faceQuality({
        box: f.box,
        points: fivePoints(f.landmarks),
        norm: norms[i],
        normRange: MOBILEFACENET.normRange!,
      });
      const isReal = matched.has(i);
      if (isReal) real++;
      if (isReal && q < 0.5) realGated++;
      if (!isReal && q < 0.5) falseGated++;
      if (!isReal && q >= 0.5) falseKept++;
    });
  }
  console.log(
    `\nquality gate (0.5) on group_photos' annotated photos, YuNet + 68, MobileFaceNet: ${real} matched faces, ${realGated} of them gated; unmatched detections: ${falseGated} gated, ${falseKept} kept`,
  );
  await det.release();
  await emb.release();
}

// batching: YuNet over LFW-sized inputs (256×256), one call per photo against batches
{
  const session = await loadOnnxModel(
    await Deno.readFile(`${modelCacheDir()}/${YUNET.remote[0].name}`),
    "input",
    device,
  );
  const row: string[] = [];
  for (const b of [1, 4, 16]) {
    const data = new Float32Array(b * 3 * 256 * 256).map((_, i) => (i * 2654435761) % 255);
    await session.run(data, [b, 3, 256, 256]);
    const reps = Math.ceil(128 / b), t0 = performance.now();
    for (let i = 0; i < reps; i++) await session.run(data, [b, 3, 256, 256]);
    row.push(`batch ${b}: ${((performance.now() - t0) / (reps * b)).toFixed(2)} ms/photo`);
  }
  console.log(`\nYuNet at 256×256 on ${device}: ${row.join(", ")}`);
  await session.release();
}
