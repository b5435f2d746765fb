/**
 * Checks of a library file from outside (a connection of its own), for the tests that kill,
 * race or interleave processes on one library.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { assertEquals } from "./shared.ts";

/** The library's invariants, read with a connection of its own. */
export function checkLibrary(path: string): { photos: number; faces: number } {
  const db = new DatabaseSync(path);
  try {
    const one = (sql: string) => Object.values(db.prepare(sql).get() as object)[0];
    assertEquals(one("PRAGMA integrity_check"), "ok");
    assertEquals(db.prepare("PRAGMA foreign_key_check").all().length, 0, "dangling rows");
    assertEquals(
      one(
        "SELECT count(*) FROM faces f LEFT JOIN vectors v ON v.face_id = f.id WHERE v.face_id IS NULL",
      ),
      0,
      "a face without its vector",
    );
    assertEquals(
      one(
        "SELECT count(*) FROM photos WHERE status = 'faces' AND duplicate_of IS NULL AND id NOT IN (SELECT photo_id FROM faces)",
      ),
      0,
      "a photo with faces lost them",
    );
    // no face stored twice: one row per (photo, box)
    assertEquals(
      one("SELECT count(*) - count(DISTINCT photo_id || box) FROM faces"),
      0,
      "a face stored twice",
    );
    return {
      photos: Number(one("SELECT count(*) FROM photos")),
      faces: Number(one("SELECT count(*) FROM faces")),
    };
  } finally {
    db.close();
  }
}

/**
 * The temporary files (`.NAME.PID.tmp`) anywhere under a folder.
 *
 * @param dir The folder.
 * @returns Their paths below it.
 */
export function temporaryFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of Deno.readDirSync(d)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) walk(`${d}/${e.name}`, r);
      else if (/^\..+\.\d+\.tmp$/.test(e.name)) found.push(r);
    }
  };
  walk(dir, "");
  return found.sort();
}

/**
 * The people of an output folder as sets of faces named by photo and box (ids may differ
 * between libraries), from its `clusters.json`.
 */
export async function partitionOf(out: string): Promise<string[]> {
  const m = JSON.parse(await Deno.readTextFile(`${out}/clusters.json`));
  const groups = new Map<number, string[]>();
  for (const f of m.faces) {
    if (f.person === null) continue;
    const key = `${f.file}@${Math.round(f.box.x)},${Math.round(f.box.y)}`;
    groups.set(f.person, [...(groups.get(f.person) ?? []), key]);
  }
  return [...groups.values()].map((g) => g.sort().join(" ")).sort();
}
