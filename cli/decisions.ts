/**
 * The people commands on a library: reads (`people`, `faces`, `history`) and decisions
 * (`name`, `merge`, `move`, `split`, `not-face`, `not-person`, `undo`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { InputError } from "../lib/errors.ts";
import type { Library } from "../lib/library/library.ts";
import { openLibrary } from "../lib/library/open.ts";
import { faceIds, fail } from "./common.ts";

/** Commands that read or change a library's people. */
export const DECISIONS: readonly string[] = [
  "people",
  "faces",
  "name",
  "merge",
  "move",
  "split",
  "not-face",
  "not-person",
  "undo",
  "history",
];

const HINT = "run the main job again to re-cluster with it and update the folders";

type Print = (text: string, data: unknown) => void;

/**
 * One of {@link DECISIONS} on a library (its output folder, or its file).
 *
 * @param command The command.
 * @param args Its arguments.
 * @returns The exit code.
 */
export async function decisionCommand(command: string, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      to: { type: "string" },
      name: { type: "string" },
      wait: { type: "string", default: "2" },
      json: { type: "boolean", default: false },
    },
  });
  const [where, ...rest] = positionals;
  if (where === undefined) {
    return fail(`${command} LIBRARY: give the output folder (or its library.db)`);
  }
  const wait = Number(values.wait);
  if (!(wait >= 0)) throw new InputError("--wait", `'${values.wait}' is not a number of seconds`);
  const lib = await openLibrary(where, wait * 1000);
  const print: Print = (text, data) => console.log(values.json ? JSON.stringify(data) : text);
  try {
    if (["people", "faces", "history"].includes(command)) {
      await read(lib, command, rest, print);
      return 0;
    }
    if (command === "undo") {
      const d = await lib.undo();
      print(d ? `undone: ${d.kind}: ${d.summary}; ${HINT}` : "nothing to undo", d);
      return 0;
    }
    const id = await decide(lib, command, rest, values);
    if (id === null) return 2;
    const d = (await lib.decisions()).find((x) => x.id === id)!;
    print(`decision ${d.id}: ${d.summary}; ${HINT}`, d);
    return 0;
  } finally {
    await lib.close();
  }
}

/** `people`, `faces [PERSON]`, `history`. */
async function read(lib: Library, command: string, rest: string[], print: Print): Promise<void> {
  if (command === "people") {
    const people = await lib.people();
    print(
      people.map((p) =>
        `${String(p.id).padStart(5)}  ${
          (p.name ?? "(unnamed)").padEnd(24)
        } ${p.faces} faces, ${p.photos} photos${p.pinned ? `, ${p.pinned} confirmed` : ""}`
      ).join("\n") || "no people yet",
      people,
    );
  } else if (command === "faces") {
    const person = rest.length ? await lib.person(rest[0]) : null;
    const faces = (await lib.faces()).filter((f) =>
      person ? f.personId === person.id : f.personId === null
    ).sort((a, b) => a.similarity - b.similarity);
    print(
      faces.map((f) =>
        `${String(f.id).padStart(7)}  ${f.file}  similarity ${f.similarity.toFixed(3)}${
          f.pinned ? " (confirmed)" : ""
        }${f.notFace ? " (not a face)" : ""}`
      ).join("\n") || "no faces",
      faces.map(({ id, file, similarity, pinned, quality, personId }) => ({
        id,
        file,
        similarity,
        pinned,
        quality,
        personId,
      })),
    );
  } else {
    const log = await lib.decisions();
    print(
      log.map((d) =>
        `${String(d.id).padStart(5)}  ${d.at}  ${d.kind}: ${d.summary}${
          d.undone ? " (undone)" : ""
        }`
      ).join("\n") || "no decisions yet",
      log,
    );
  }
}

/** A decision; its id, or null after a usage error (printed). */
async function decide(
  lib: Library,
  command: string,
  rest: string[],
  values: { to?: string; name?: string },
): Promise<number | null> {
  if (command === "name") {
    if (rest.length !== 2) return (fail("name LIBRARY PERSON NAME"), null);
    return await lib.name(rest[0], rest[1]);
  }
  if (command === "merge") {
    if (rest.length < 2) return (fail("merge LIBRARY PERSON OTHER..."), null);
    return await lib.merge(rest[0], rest.slice(1));
  }
  if (command === "move") {
    if (values.to === undefined) {
      return (fail("move LIBRARY FACE... --to PERSON|new [--name NAME]"), null);
    }
    const to = values.to === "new" ? null : values.to;
    return await lib.move(faceIds(rest), to, values.name ?? null);
  }
  if (command === "split") {
    if (rest.length < 2) return (fail("split LIBRARY PERSON FACE..."), null);
    return await lib.split(rest[0], faceIds(rest.slice(1)));
  }
  if (command === "not-face") return await lib.notAFace(faceIds(rest));
  return await lib.notThisPerson(faceIds(rest));
}
