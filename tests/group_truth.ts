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
