/**
 * The hand-drawn face boxes (and dlib's 68 landmarks) of `../shared/faces/group_photos`,
 * from `_meta/group_photos/dlib_*_with_face_landmarks.xml`.
 *
 * @module
 */

import { SHARED } from "./shared.ts";

/** One annotated face. */
export interface TruthFace {
  box: { x: number; y: number; width: number; height: number };
  /** 68 landmarks, or empty when the file has none. */
  landmarks: [number, number][];
  /** Marked to be ignored by the annotator. */
  ignore: boolean;
}

/**
 * Reads every annotated image: file name → faces.
 *
 * @returns The annotations.
 */
export async function readGroupTruth(): Promise<Map<string, TruthFace[]>> {
  const out = new Map<string, TruthFace[]>();
  for (
    const f of ["dlib_training_with_face_landmarks.xml", "dlib_testing_with_face_landmarks.xml"]
  ) {
    const xml = await Deno.readTextFile(`${SHARED}faces/_meta/group_photos/${f}`);
    for (const img of xml.matchAll(/<image file='([^']+)'[^>]*>([\s\S]*?)<\/image>/g)) {
      const faces: TruthFace[] = [];
      for (const b of img[2].matchAll(/<box ([^>]*?)(\/>|>([\s\S]*?)<\/box>)/g)) {
        const attr = (k: string) => Number(new RegExp(`${k}='(-?[\\d.]+)'`).exec(b[1])?.[1] ?? NaN);
        const landmarks: [number, number][] = [];
        for (const p of (b[3] ?? "").matchAll(/<part name='(\d+)' x='(-?\d+)' y='(-?\d+)'\/>/g)) {
          landmarks[Number(p[1])] = [Number(p[2]), Number(p[3])];
        }
        faces.push({
          box: { x: attr("left"), y: attr("top"), width: attr("width"), height: attr("height") },
          landmarks,
          ignore: /ignore='1'/.test(b[1]),
        });
      }
      out.set(img[1], faces);
    }
  }
  return out;
}

/** How a photo's detections compare with its annotated faces. */
export interface TruthMatch {
  /** Annotated faces (not ignored) that a detection found. */
  found: number;
  /** Annotated faces no detection found. */
  missed: number;
  /** Detections that match no annotated face (ignored ones excepted). */
  extra: number;
  /** For each found face: [annotation, detection index]. */
  pairs: [TruthFace, number][];
}

/**
 * Matches detections to the annotated faces of one photo: a face is found when an unused
 * detection's centre lies within half the annotated box's width of its centre (nearest
 * first); detections near an ignored face count neither way.
 *
 * @param gts The annotated faces.
 * @param boxes The detections' boxes.
 * @returns Found, missed, extra and the pairs.
 */
export function matchTruth(
  gts: TruthFace[],
  boxes: { x: number; y: number; width: number; height: number }[],
): TruthMatch {
  const used = new Set<number>();
  const pairs: [TruthFace, number][] = [];
  let missed = 0;
  const nearest = (g: TruthFace): [number, number] => {
    const gx = g.box.x + g.box.width / 2, gy = g.box.y + g.box.height / 2;
    let best = -1, bestD = Infinity;
    boxes.forEach((b, i) => {
      const d = Math.hypot(b.x + b.width / 2 - gx, b.y + b.height / 2 - gy);
      if (!used.has(i) && d < bestD) [best, bestD] = [i, d];
    });
    return bestD < 0.5 * g.box.width ? [best, bestD] : [-1, bestD];
  };
  for (const g of gts.filter((g) => !g.ignore)) {
    const [best] = nearest(g);
    if (best < 0) missed++;
    else {
      used.add(best);
      pairs.push([g, best]);
    }
  }
  for (const g of gts.filter((g) => g.ignore)) {
    const [best] = nearest(g);
    if (best >= 0) used.add(best);
  }
  return { found: pairs.length, missed, extra: boxes.length - used.size, pairs };
}
