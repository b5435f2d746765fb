/**
 * Contact sheets: face chips laid out in a grid on one image.
 *
 * @module
 */

import { resizeBilinear } from "../image/transform.ts";
import type { RgbImage } from "../image/types.ts";

/** Options of {@link contactSheet}. */
export interface ContactSheetOptions {
  /** Side of each tile in pixels. @default 96 */
  tile?: number;
  /** Tiles per row. @default 10 (fewer when there are fewer faces) */
  columns?: number;
  /** Gap between tiles and around the grid, pixels. @default 4 */
  gap?: number;
  /** Background grey level. @default 32 */
  background?: number;
}

/**
 * Lays out face chips (any size; each scaled to a square tile) in rows.
 *
 * @param chips The faces, in reading order.
 * @param options Tile size, columns, gap, background.
 * @returns The sheet.
 * @throws {Error} When there are no chips.
 *
 * @example
 * ```ts
 * import { contactSheet } from "./contact_sheet.ts";
 * import { blankImage } from "../image/types.ts";
 * const sheet = contactSheet([blankImage(150, 150), blankImage(112, 112)], { tile: 64 });
 * console.log(sheet.width, sheet.height); // 140 72
 * ```
 */
export function contactSheet(chips: RgbImage[], options: ContactSheetOptions = {}): RgbImage {
  if (chips.length === 0) throw new Error("contact sheet of no faces");
  const tile = options.tile ?? 96, gap = options.gap ?? 4;
  const columns = Math.min(options.columns ?? 10, chips.length);
  const rows = Math.ceil(chips.length / columns);
  const width = gap + columns * (tile + gap), height = gap + rows * (tile + gap);
  const data = new Uint8Array(width * height * 3).fill(options.background ?? 32);
  chips.forEach((chip, i) => {
    const t = chip.width === tile && chip.height === tile ? chip : resizeBilinear(chip, tile, tile);
    const x0 = gap + (i % columns) * (tile + gap),
      y0 = gap + Math.floor(i / columns) * (tile + gap);
    for (let y = 0; y < tile; y++) {
      data.set(t.data.subarray(y * tile * 3, (y + 1) * tile * 3), ((y0 + y) * width + x0) * 3);
    }
  });
  return { width, height, data };
}
