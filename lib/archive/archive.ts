/**
 * Writing the result: one folder per person (largest first) with the photos where that
 * person appears, their aligned face crops and a contact sheet, a folder for faces that
 * joined nobody, the manifest `clusters.json`, the embeddings as `.npy`, `report.html` and
 * `overview.png`. The input is only read; every file
 * is written under a temporary name and renamed; a non-empty output folder is refused
 * unless forced.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import type { RgbImage } from "../image/types.ts";
import { writeAtomically, writeFileAtomic } from "../io/atomic.ts";
import { encodeNpy } from "../io/npy.ts";
import { encodePng } from "../image/encode_png.ts";
import type { FaceRecord, FolderClustering } from "../pipeline/cluster_folder.ts";
import { manifestFace, NOT_FACES, type ReportData } from "../report/report_html.ts";
import { writeReport } from "../report/write_report.ts";

/** Face crops being encoded and written at once, at most. */
const STAGING_IN_FLIGHT = 8;

/** How photos are put into the person folders. */
export type LinkMode = "copy" | "hard" | "symbolic";

/** Options of {@link Archive}. */
export interface ArchiveOptions {
  /** Photos as copies (default), hard links or symbolic links. */
  link?: LinkMode;
  /** Write into a non-empty output folder. @default false */
  force?: boolean;
}

function resolve(p: string): string {
  const abs = p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
  const parts: string[] = [];
  for (const seg of abs.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return "/" + parts.join("/");
}

async function realOrResolved(p: string): Promise<string> {
  try {
    return await Deno.realPath(p);
  } catch {
    return resolve(p);
  }
}

/**
 * The default output folder: beside the input, `<input>_people`.
 *
 * @param input The input folder.
 * @returns The output folder path.
 *
 * @example
 * ```ts
 * import { defaultOutput } from "./archive.ts";
 * console.log(defaultOutput("/photos/2024/")); // "/photos/2024_people"
 * ```
 */
export function defaultOutput(input: string): string {
  return `${resolve(input)}_people`;
}

/**
 * Checks an output folder against its input: never the input, inside it, or above it.
 *
 * @param input The input folder.
 * @param out The output folder (it may not exist yet).
 * @returns Its real path and the names in it now.
 * @throws {InputError} For an output folder inside the input or holding it, or unreadable.
 *
 * @example
 * ```ts ignore
 * const { entries } = await checkOutputFolder("photos", "photos_people");
 * ```
 */
export async function checkOutputFolder(
  input: string,
  out: string,
): Promise<{ real: string; entries: string[] }> {
  const inReal = await realOrResolved(input), outReal = await realOrResolved(out);
  if (outReal === inReal || outReal.startsWith(inReal + "/")) {
    throw new InputError(
      out,
      `the output folder may not be the input folder or inside it (${input})`,
    );
  }
  if (inReal.startsWith(outReal + "/")) {
    throw new InputError(out, `the output folder may not contain the input folder (${input})`);
  }
  let entries: string[] = [];
  try {
    entries = (await Array.fromAsync(Deno.readDir(out))).map((e) => e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new InputError(out, `cannot read: ${(e as Error).message}`);
    }
  }
  return { real: outReal, entries };
}

/**
 * The folder name of a cluster: `person_001`… by size, `unclustered` for faces alone,
 * `not_faces` for faces below the quality gate (cluster -1).
 */
function folderName(cluster: number, size: number, digits: number): string {
  if (cluster < 0) return NOT_FACES;
  return size < 2 ? "unclustered" : `person_${String(cluster + 1).padStart(digits, "0")}`;
}

/** What {@link Archive.write} wrote. */
export interface ArchiveSummary {
  /** The output folder. */
  out: string;
  /** People folders (clusters of two or more faces). */
  people: number;
  /** Faces in `unclustered/`. */
  unclustered: number;
  /** Faces in `not_faces/` (below the quality gate). */
  notFaces: number;
  /** Photo files placed (copies or links). */
  photosPlaced: number;
  /** Face crops written. */
  crops: number;
  /** The report page (`report.html`). */
  report: string;
}

/**
 * An output folder being filled: checked and created by {@link Archive.open}, face crops
 * staged while faces are found ({@link Archive.stageChip}), everything put in place by
 * {@link Archive.write}.
 *
 * @example
 * ```ts ignore
 * const archive = await Archive.open("photos", defaultOutput("photos"));
 * const result = await clusterFolder("photos", { exclude: [archive.out], onChip: (f, c) => archive.stageChip(f, c) });
 * await archive.write(result);
 * ```
 */
export class Archive {
  /** The output folder (absolute). */
  readonly out: string;
  #input: string;
  #link: LinkMode;
  #staging: string;
  #staged = new Set<Promise<void>>();

  private constructor(input: string, out: string, link: LinkMode, staging: string) {
    this.#input = input;
    this.out = out;
    this.#link = link;
    this.#staging = staging;
  }

  /**
   * Checks and creates the output folder: never the input or inside it, and empty unless
   * `force`.
   *
   * @param input The input folder.
   * @param out The output folder.
   * @param options Link mode and force.
   * @returns The archive.
   * @throws {InputError} For an output folder inside the input, or one not empty without force.
   */
  static async open(input: string, out: string, options: ArchiveOptions = {}): Promise<Archive> {
    const { real: outReal, entries } = await checkOutputFolder(input, out);
    if (entries.length > 0 && !options.force) {
      throw new InputError(out, "the output folder is not empty (use --force to write into it)");
    }
    await Deno.mkdir(out, { recursive: true });
    const staging = await Deno.makeTempDir({ dir: out, prefix: ".staging-" });
    return new Archive(input, outReal, options.link ?? "copy", staging);
  }

  /**
   * Keeps a face's aligned chip (as PNG in a staging folder) until the clusters are known.
   *
   * @param face The face.
   * @param chip Its chip.
   */
  async stageChip(face: FaceRecord, chip: RgbImage): Promise<void> {
    // encoded and written off the JavaScript thread while the next photos are worked on;
    // at most STAGING_IN_FLIGHT at a time, all awaited before anything is placed
    const p = encodePng(chip).then((png) => Deno.writeFile(`${this.#staging}/${face.id}.png`, png));
    this.#staged.add(p);
    p.then(() => this.#staged.delete(p), () => {});
    if (this.#staged.size >= STAGING_IN_FLIGHT) await Promise.race(this.#staged);
  }

  async #place(src: string, dst: string): Promise<void> {
    await writeAtomically(dst, async (tmp) => {
      if (this.#link === "hard") await Deno.link(src, tmp);
      else if (this.#link === "symbolic") await Deno.symlink(await Deno.realPath(src), tmp);
      else await Deno.copyFile(src, tmp);
    });
  }

  /**
   * Writes the person folders, crops, manifest and embeddings.
   *
   * @param result The clustering of the input folder.
   * @param extra More fields for the manifest (settings, timings, metrics).
   * @param onProgress Progress of placing the faces (`write`) and of the report (`report`).
   * @returns What was written.
   */
  async write(
    result: FolderClustering,
    extra: Record<string, unknown> = {},
    onProgress?: (stage: string, done: number, total: number) => void,
  ): Promise<ArchiveSummary> {
    await Promise.all(this.#staged);
    const size = new Map<number, number>();
    for (const f of result.faces) size.set(f.cluster, (size.get(f.cluster) ?? 0) + 1);
    const people = [...size.entries()].filter(([c, s]) => c >= 0 && s >= 2).length;
    const digits = Math.max(3, String(people).length);
    const folders = new Map<number, string>();
    for (const [c, s] of size) folders.set(c, folderName(c, s, digits));
    let photosPlaced = 0, crops = 0;
    const placed = new Set<string>();
    for (const f of result.faces) {
      onProgress?.("write", f.id, result.faces.length);
      const folder = `${this.out}/${folders.get(f.cluster)!}`;
      await Deno.mkdir(`${folder}/faces`, { recursive: true });
      const flat = f.file.replaceAll("/", "__");
      const key = `${folder}/${flat}`;
      if (!placed.has(key)) {
        await this.#place(`${this.#input}/${f.file}`, key);
        placed.add(key);
        photosPlaced++;
      }
      const staged = `${this.#staging}/${f.id}.png`;
      const crop = `${folder}/faces/face_${String(f.id).padStart(6, "0")}.png`;
      try {
        await Deno.rename(staged, crop);
        crops++;
      } catch {
        // no chip was staged for this face
      }
    }
    const manifest = {
      version: 1,
      input: this.#input,
      model: {
        name: result.model.name,
        file: result.model.file,
        dims: result.model.dims,
        sha256: result.model.sha256 ?? null,
        flip: result.settings.flip,
        about: result.model.about,
      },
      k: result.settings.k,
      min_sim: result.settings.minSim,
      photos: result.photos.length,
      faces: result.faces.map((f) => ({
        ...manifestFace(f),
        cluster: f.cluster,
        folder: folders.get(f.cluster),
        similarity: f.similarity,
        ...(f.label !== null ? { label: f.label } : {}),
      })),
      clusters: [...size.entries()].filter(([c]) => c >= 0).sort((a, b) => a[0] - b[0]).map((
        [c, s],
      ) => ({
        id: c,
        size: s,
        folder: folders.get(c),
      })),
      accounting: {
        with_faces: result.accounting.withFaces,
        without_faces: result.accounting.withoutFaces,
        failed: result.accounting.failed,
      },
      detection: result.detection,
      quality_gate: { min_quality: result.gated.minQuality, not_faces: result.gated.faces },
      ...(result.evaluation
        ? {
          evaluation: {
            photos: result.evaluation.photos,
            faces: result.evaluation.faces,
            coverage: result.evaluation.coverage,
          },
        }
        : {}),
      failed: result.failed,
      without_faces: result.withoutFaces,
      skipped: result.skipped,
      embeddings: { file: "embeddings.npy", rows: "face id" },
      ...extra,
    };
    onProgress?.("write", result.faces.length, result.faces.length);
    await writeFileAtomic(`${this.out}/clusters.json`, JSON.stringify(manifest, null, 1) + "\n");
    await writeFileAtomic(
      `${this.out}/embeddings.npy`,
      encodeNpy({ rows: result.faces.length, cols: result.model.dims, data: result.vectors }),
    );
    await Deno.remove(this.#staging, { recursive: true }).catch(() => {});
    const report = await writeReport(
      this.out,
      manifest as ReportData,
      (done, total) => onProgress?.("report", done, total),
    );
    return {
      out: this.out,
      report: `${this.out}/${report.html}`,
      people,
      unclustered: [...size.entries()].filter(([c, s]) => c >= 0 && s < 2).length,
      notFaces: result.gated.faces,
      photosPlaced,
      crops,
    };
  }

  /** Removes the staging folder after a failed run (the user's files are never touched). */
  async abandon(): Promise<void> {
    await Deno.remove(this.#staging, { recursive: true }).catch(() => {});
  }
}
