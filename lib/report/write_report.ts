/**
 * Writes what people look at into an output folder: `report.html`, a contact sheet per
 * person (`person_NNN/contact_sheet.png`, the most typical faces first) and `overview.png`
 * (each person's most typical face, in person order).
 *
 * @module
 */

import { encodePng } from "../image/encode_png.ts";
import { decodeImage } from "../image/decode.ts";
import type { RgbImage } from "../image/types.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { contactSheet } from "./contact_sheet.ts";
import {
  cropPath,
  groupFaces,
  renderReport,
  type ReportData,
  type ReportFace,
} from "./report_html.ts";

/** What {@link writeReport} wrote, relative to the output folder. */
export interface ReportFiles {
  /** `report.html`. */
  html: string;
  /** One per person. */
  contactSheets: string[];
  /** `overview.png`, or null when there are no people. */
  overview: string | null;
  /** Per contact sheet, a digest of the faces on it (give it back to skip unchanged sheets). */
  sheetDigests: Record<string, string>;
}

/** Contact sheets made at once. */
const SHEETS_AT_ONCE = 4;

/** Faces on one contact sheet at most. */
export const SHEET_FACES = 100;

/** People shown in `overview.png` (the largest; 50 rows of 12). */
export const OVERVIEW_PEOPLE = 600;

/**
 * Writes the report, contact sheets and overview for a manifest whose crops are in place.
 *
 * @param out The output folder.
 * @param data The manifest's fields.
 * @param onProgress Called per contact sheet written.
 * @returns The files written.
 *
 * @example
 * ```ts ignore
 * import { writeReport } from "./write_report.ts";
 * const manifest = JSON.parse(await Deno.readTextFile("photos_people/clusters.json"));
 * await writeReport("photos_people", manifest);
 * ```
 */
export async function writeReport(
  out: string,
  data: ReportData,
  onProgress?: (done: number, total: number) => void,
  previous: Record<string, string> = {},
): Promise<ReportFiles> {
  const { people } = groupFaces(data);
  const crop = async (f: ReportFace): Promise<RgbImage | null> => {
    const path = `${out}/${cropPath(f)}`;
    try {
      return await decodeImage(await Deno.readFile(path), path);
    } catch {
      return null; // a face whose crop was not written (e.g. an embeddings-only run)
    }
  };
  // per person: its sheet (made again only when its faces changed) and its representative;
  // a few people at once, so that decoding and encoding overlap on the cores
  const made: ({ rel: string; digest: string; rep: RgbImage | ReportFace; id: number } | null)[] =
    new Array(people.length).fill(null);
  let next = 0, done = 0;
  const lane = async () => {
    while (next < people.length) {
      const i = next++;
      const c = people[i];
      const faces = c.faces.slice(0, SHEET_FACES);
      const rel = `${c.folder}/contact_sheet.png`;
      const digest = faces.map((f) => f.id).join(",");
      if (previous[rel] === digest && await isFile(`${out}/${rel}`)) {
        made[i] = { rel, digest, rep: faces[0], id: faces[0].id }; // not made again
      } else {
        const chips = (await Promise.all(faces.map(crop))).filter((x): x is RgbImage => x !== null);
        if (chips.length) {
          await writeFileAtomic(`${out}/${rel}`, await encodePng(contactSheet(chips)));
          made[i] = { rel, digest, rep: chips[0], id: faces[0].id };
        }
      }
      onProgress?.(++done, people.length);
    }
  };
  await Promise.all(Array.from({ length: SHEETS_AT_ONCE }, lane));
  const sheets: string[] = [];
  const sheetDigests: Record<string, string> = {};
  const representatives: (RgbImage | ReportFace)[] = []; // a face still to be read
  const repIds: number[] = [];
  for (const m of made) {
    if (!m) continue;
    sheets.push(m.rel);
    sheetDigests[m.rel] = m.digest;
    representatives.push(m.rep);
    repIds.push(m.id);
  }
  let overview: string | null = null;
  // the largest people only: at a million faces (39k people) one tile each made a picture
  // larger than the PNG encoder takes
  representatives.splice(OVERVIEW_PEOPLE);
  repIds.splice(OVERVIEW_PEOPLE);
  sheetDigests["overview.png"] = repIds.join(",");
  if (representatives.length) {
    overview = "overview.png";
    if (
      previous["overview.png"] !== sheetDigests["overview.png"] ||
      !(await isFile(`${out}/${overview}`))
    ) {
      const chips = await Promise.all(
        representatives.map((r) => ("data" in r ? Promise.resolve(r) : crop(r))),
      );
      await writeFileAtomic(
        `${out}/${overview}`,
        await encodePng(
          contactSheet(chips.filter((x): x is RgbImage => x !== null), { tile: 80, columns: 12 }),
        ),
      );
    }
  }
  await writeFileAtomic(`${out}/report.html`, renderReport(data));
  return { html: "report.html", contactSheets: sheets, overview, sheetDigests };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
