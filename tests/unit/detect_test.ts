import { FaceDetector } from "../../lib/detect/detector.ts";
import { nonMaxSuppression } from "../../lib/detect/nms.ts";
import { decodeImage } from "../../lib/image/decode.ts";
import type { RgbImage } from "../../lib/image/types.ts";
import { matchTruth, readGroupTruth } from "../group_truth.ts";
import { assert, assertEquals, hasShared, SHARED } from "../shared.ts";

Deno.test("detect: NMS keeps the best of overlapping boxes and respects the limits", () => {
  const boxes = [0, 0, 1, 1, 0, 0.05, 1, 1.05, 2, 2, 3, 3, 2, 2, 3, 3];
  assertEquals(nonMaxSuppression(boxes, [0.6, 0.9, 0.8, 0.4], 10, 0.5, 0.5), [1, 2]);
  assertEquals(nonMaxSuppression(boxes, [0.6, 0.9, 0.8, 0.4], 1, 0.5, 0.5), [1]);
});

Deno.test("detect: a blank or noisy image has no faces", async () => {
  const det = await FaceDetector.load({ detector: "ssd" });
  const blank: RgbImage = {
    width: 300,
    height: 200,
    data: new Uint8Array(300 * 200 * 3).fill(128),
  };
  assertEquals((await det.detect(blank)).length, 0);
  const noise: RgbImage = { width: 200, height: 300, data: new Uint8Array(200 * 300 * 3) };
  for (let i = 0; i < noise.data.length; i++) noise.data[i] = (i * 2654435761) >>> 24;
  assertEquals((await det.detect(noise)).length, 0);
  await det.release();
});

Deno.test({
  name: "detect: group_photos against the hand-drawn boxes and dlib's landmarks",
  ignore: !hasShared("faces/group_photos") || !hasShared("faces/_meta/group_photos"),
  fn: async () => {
    const truth = await readGroupTruth();
    const det = await FaceDetector.load({ detector: "ssd" });
    let found = 0, missed = 0, extra = 0;
    const errors: number[] = [];
    for (const [file, gts] of truth) {
      const path = `${SHARED}faces/group_photos/${file}`;
      const img = await decodeImage(await Deno.readFile(path), path);
      const faces = await det.detect(img, { minFaceSize: 0 });
      const m = matchTruth(gts, faces.map((f) => f.box));
      found += m.found;
      missed += m.missed;
      for (const [g, best] of m.pairs) {
        if (g.landmarks.length === 68) {
          const l = g.landmarks, lm = faces[best].landmarks;
          const eyes = Math.hypot(l[36][0] - l[45][0], l[36][1] - l[45][1]);
          let e = 0;
          for (let p = 0; p < 68; p++) e += Math.hypot(lm[p][0] - l[p][0], lm[p][1] - l[p][1]);
          errors.push(e / 68 / eyes);
        }
      }
      extra += m.extra;
    }
    await det.release();
    errors.sort((a, b) => a - b);
    const recall = found / (found + missed), median = errors[errors.length >> 1];
    console.log(
      `group_photos: recall ${recall.toFixed(3)} (${found}/${
        found + missed
      }), ${extra} unmatched detections, landmark error median ${
        median.toFixed(3)
      } of the eye distance`,
    );
    assert(recall >= 0.95, `recall ${recall}`);
    assert(extra <= 3, `${extra} detections match no annotated face`);
    assert(median < 0.1, `median landmark error ${median} of the eye distance`);
  },
});
