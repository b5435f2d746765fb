/**
 * A face's quality: whether it can form a person. False detections (a guitar, an ear, a
 * cartoon) and unusable faces (extreme blur, faces turned by wrong landmarks) get a low
 * score from signals measured to separate them: the embedding's length before
 * normalisation (MobileFaceNet: median 17.1 over real faces, 9.2 over the junk of one web
 * photo set; `../shared/models/README.md`), and five points that contradict the box.
 *
 * @module
 */

import type { Point } from "../align/similarity.ts";

/** What {@link faceQuality} looks at. */
export interface QualityInput {
  /** Box in photo pixels. */
  box: { x: number; y: number; width: number; height: number };
  /** The five points (eye centres, nose tip, mouth corners, as seen left to right). */
  points: Point[];
  /** The embedding's length before normalisation (NaN: unknown). */
  norm: number;
  /**
   * Where the model's norms say "face" (quality 0.5 at `low`, 1 from `high` on); null: the
   * model's norms are not used. MobileFaceNet: [10, 13].
   */
  normRange: [number, number] | null;
  /** The whole picture taken as a face (crop mode): its points are not a finding. */
  whole?: boolean;
}

/**
 * Whether the five points are a face in the box: all inside it (with a 15% margin), the
 * eyes above the mouth and the eye line tilted by less than 50° in the box's frame, the
 * nose between the eyes and the mouth.
 *
 * @param box The box.
 * @param p The five points.
 * @returns True when they agree with an upright face in the box.
 *
 * @example
 * ```ts
 * import { pointsFitBox } from "./quality.ts";
 * const box = { x: 0, y: 0, width: 100, height: 100 };
 * console.log(pointsFitBox(box, [[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]])); // true
 * console.log(pointsFitBox(box, [[40, 30], [40, 70], [60, 50], [80, 35], [80, 65]])); // false
 * ```
 */
export function pointsFitBox(
  box: { x: number; y: number; width: number; height: number },
  p: Point[],
): boolean {
  const mx = 0.15 * box.width, my = 0.15 * box.height;
  for (const [x, y] of p) {
    if (x < box.x - mx || x > box.x + box.width + mx) return false;
    if (y < box.y - my || y > box.y + box.height + my) return false;
  }
  const [le, re, nose, lm, rm] = p;
  const eyeY = (le[1] + re[1]) / 2, mouthY = (lm[1] + rm[1]) / 2;
  if (!(mouthY > eyeY)) return false;
  const angle = Math.abs(Math.atan2(re[1] - le[1], re[0] - le[0])) * 180 / Math.PI;
  if (!(angle < 50)) return false;
  return nose[1] > eyeY - 0.1 * box.height && nose[1] < mouthY + 0.1 * box.height;
}

/**
 * The quality of a face in [0, 1]: 0 when its points contradict its box; else, for a model
 * with a measured norm range, a ramp over the embedding's raw length (0.5 at the low end of
 * the range, 1 from its high end), else 1.
 *
 * @param f The face's box, points, embedding norm and the model's range.
 * @returns The quality.
 *
 * @example
 * ```ts
 * import { faceQuality } from "./quality.ts";
 * const box = { x: 0, y: 0, width: 100, height: 100 };
 * const points: [number, number][] = [[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]];
 * console.log(faceQuality({ box, points, norm: 17, normRange: [10, 13] })); // 1
 * console.log(faceQuality({ box, points, norm: 8.5, normRange: [10, 13] })); // 0.25
 * ```
 */
export function faceQuality(f: QualityInput): number {
  if (!f.whole && !pointsFitBox(f.box, f.points)) return 0;
  if (!f.normRange || !Number.isFinite(f.norm)) return 1;
  const [low, high] = f.normRange;
  const q = 0.5 + 0.5 * (f.norm - low) / (high - low);
  return Math.min(1, Math.max(0, q));
}
