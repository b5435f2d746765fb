/**
 * The property test of the user's decisions: random sequences of what users do (name,
 * rename, merge, move to a person or a new one, split, not this person, not a face, undo),
 * each followed by a re-run of the library or by another decision, sometimes by new photos
 * and a re-run. A model of what the user meant, kept beside the library from the decisions
 * alone, is checked after every step:
 *
 * - every face the user put with a person (pinned) is with that person, and only those are
 *   pinned; named persons keep their names;
 * - a face the user said is not a person's, or not a face, is not in it (unless put back);
 * - no person's id moves while it keeps most of its faces (across a re-run): most of a
 *   person's faces may end up under another id only where that is a person that was there
 *   before and kept most of its own (the clustering joined two persons); a person with faces
 *   the user put there is those faces, wherever the clustering takes its others;
 * - no person holds two faces of one photo unless the user put them all there;
 * - an undo right after a decision restores the people exactly (persons, pins, names,
 *   constraints).
 *
 * Used by `tests/library_decisions_test.ts` (a few hundred steps) and `bench/decisions.ts`
 * (thousands).
 *
 * @module
 */

import type { InferenceDevice } from "../lib/embed/onnx_runtime.ts";
import { exportLibrary } from "../lib/library/export.ts";
import { type FaceView, Library } from "../lib/library/library.ts";
import { assertEquals, linkSharedPhotos, runCli, sharedPhotos } from "./shared.ts";

/** A seeded random source (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@link decisionProperty}. */
export interface PropertyOptions {
  /** Steps (a decision, or an undo). */
  steps: number;
  /** Seed of the random choices. */
  seed: number;
  /** Re-runs the library (the main job's update and folders). */
  rerun: () => Promise<void>;
  /** Adds a few new photos to the input; false when none are left. */
  addPhotos?: () => Promise<boolean>;
  /** Chance that a step adds photos before its re-run. @default 0.02 */
  addChance?: number;
  /** Chance of a re-run after a decision. @default 0.6 */
  rerunChance?: number;
  /** Says what happened, for a failing step's message. */
  log?: (line: string) => void;
}

/** What {@link decisionProperty} did. */
export interface PropertyReport {
  /** Steps taken. */
  steps: number;
  /** Decisions by kind (and undos). */
  kinds: Record<string, number>;
  /** Re-runs, and of them runs that added photos. */
  reruns: number;
  /** Runs that added photos. */
  added: number;
  /** Invariant checks made. */
  checks: number;
}

/** The user's intent: what the decisions said, independent of the library's tables. */
interface Intent {
  /** Face → the person the user put it with. */
  pins: Map<number, number>;
  /** Face → persons the user said it is not. */
  not: Map<number, Set<number>>;
  /** Faces the user said are not faces. */
  notFaces: Set<number>;
  /** Person → its name. */
  names: Map<number, string>;
}

const copyIntent = (i: Intent): Intent => ({
  pins: new Map(i.pins),
  not: new Map([...i.not].map(([f, s]) => [f, new Set(s)])),
  notFaces: new Set(i.notFaces),
  names: new Map(i.names),
});

/** The library's people as one comparable text (undo must give it back exactly). */
async function tables(lib: Library): Promise<string> {
  const faces = await lib.faces();
  // persons a user sees: with faces or a name (an undone split leaves an empty one behind)
  const seen = new Set(faces.map((f) => f.personId));
  const persons = (await lib.store.persons()).filter((p) => p.name !== null || seen.has(p.id))
    .map((p) => [p.id, p.name]);
  const cannot = (await lib.store.cannotLinks()).map((c) => [c.faceId, c.personId]);
  return JSON.stringify({
    faces: faces.map((f) => [f.id, f.personId, f.pinned, f.notFace]),
    persons,
    cannot,
  });
}

/** Throws with the step's story when `cond` is false. */
function check(cond: boolean, what: string, story: string[]): asserts cond {
  if (!cond) throw new Error(`${what}\nsteps so far:\n${story.slice(-12).join("\n")}`);
}

/**
 * Runs random decision steps on `lib` and checks the user's intent after each one.
 *
 * @param lib An open library with people.
 * @param o Steps, seed, the re-run.
 * @returns What was done.
 */
export async function decisionProperty(
  lib: Library,
  o: PropertyOptions,
): Promise<PropertyReport> {
  const rnd = random(o.seed);
  const pick = <T>(list: T[]): T => list[Math.floor(rnd() * list.length)];
  const story: string[] = [];
  const say = (line: string) => {
    story.push(line);
    o.log?.(line);
  };
  const report: PropertyReport = { steps: 0, kinds: {}, reruns: 0, added: 0, checks: 0 };
  const intent: Intent = { pins: new Map(), not: new Map(), notFaces: new Set(), names: new Map() };
  for (const f of await lib.faces()) if (f.pinned) intent.pins.set(f.id, f.personId!);
  for (const p of await lib.store.persons()) if (p.name) intent.names.set(p.id, p.name);
  const undoStack: Intent[] = [];
  let nameCount = 0;

  const checkIntent = async (when: string) => {
    report.checks++;
    const faces = await lib.faces();
    const byId = new Map(faces.map((f) => [f.id, f]));
    for (const [faceId, person] of intent.pins) {
      const f = byId.get(faceId);
      if (!f) continue; // its photo is gone
      check(
        f.personId === person && f.pinned,
        `${when}: face ${faceId} was put with person ${person}, is with ${f.personId} (pinned ${f.pinned})`,
        story,
      );
    }
    for (const f of faces) {
      if (f.pinned) {
        check(
          intent.pins.has(f.id),
          `${when}: face ${f.id} is pinned to ${f.personId}, no decision put it there`,
          story,
        );
        continue;
      }
      if (f.personId !== null) {
        check(
          !intent.not.get(f.id)?.has(f.personId),
          `${when}: face ${f.id} is in person ${f.personId}, which the user said it is not`,
          story,
        );
        check(
          !intent.notFaces.has(f.id),
          `${when}: face ${f.id} is not a face, yet in a person`,
          story,
        );
      }
    }
    const persons = new Map((await lib.store.persons()).map((p) => [p.id, p.name]));
    for (const [id, name] of intent.names) {
      check(
        persons.get(id) === name,
        `${when}: person ${id} is called ${persons.get(id)}, not ${name}`,
        story,
      );
    }
    for (const [id, name] of persons) {
      if (name !== null) {
        check(intent.names.get(id) === name, `${when}: person ${id} got the name ${name}`, story);
      }
    }
    // two faces of one photo in one person only where the user put both
    const seen = new Map<string, FaceView>();
    for (const f of faces) {
      if (f.personId === null) continue;
      const key = `${f.personId}:${f.photoId}`;
      const other = seen.get(key);
      check(
        !other || (other.pinned && f.pinned),
        `${when}: person ${f.personId} holds faces ${other?.id} and ${f.id} of one photo`,
        story,
      );
      seen.set(key, f);
    }
  };

  const rerun = async () => {
    const before = await lib.faces();
    let added = false;
    if (o.addPhotos && rnd() < (o.addChance ?? 0.02)) added = await o.addPhotos();
    await o.rerun();
    report.reruns++;
    if (added) report.added++;
    say(added ? "re-run with new photos" : "re-run");
    await checkIntent("after a re-run");
    // a person keeps its id while it keeps most of its faces
    const now = new Map((await lib.faces()).map((f) => [f.id, f.personId]));
    const groups = new Map<number, number[]>();
    for (const f of before) {
      if (f.personId !== null) groups.set(f.personId, [...(groups.get(f.personId) ?? []), f.id]);
    }
    // a person with faces the user put there is those faces (checked above, by the intent);
    // the clustering may take its other faces elsewhere
    const confirmed = new Set(before.filter((f) => f.pinned).map((f) => f.personId));
    for (const [person, ids] of groups) {
      if (ids.length < 2 || confirmed.has(person)) continue;
      const count = new Map<number, number>();
      for (const id of ids) {
        const p = now.get(id);
        if (p !== null && p !== undefined) count.set(p, (count.get(p) ?? 0) + 1);
      }
      for (const [p, c] of count) {
        if (p === person || c * 2 <= ids.length) continue;
        // most of its faces are together under another id: allowed only where that is a
        // person that was there before and kept most of its own faces (two persons that the
        // clustering joined: one id has to go, the user's pinned one stays)
        const own = groups.get(p) ?? [];
        const kept = own.filter((id) => now.get(id) === p).length;
        check(
          own.length > 0 && kept * 2 > own.length,
          `person ${person}'s id moved: ${c} of its ${ids.length} faces are now person ${p} (${
            own.length ? `which kept ${kept} of its ${own.length}` : "new"
          })`,
          story,
        );
      }
    }
  };

  for (let step = 0; step < o.steps; step++) {
    report.steps++;
    const faces = await lib.faces();
    const people = await lib.people(faces);
    const inPerson = faces.filter((f) => f.personId !== null);
    const decided = (await lib.decisions()).filter((d) => !d.undone).length;
    const r = rnd();
    const before = await tables(lib);
    const kept = copyIntent(intent);
    let kind: string;
    const facesOf = (id: number) => faces.filter((f) => f.personId === id);
    if (r < 0.12 && decided > 0 && undoStack.length > 0) {
      kind = "undo";
      const d = await lib.undo();
      check(d !== null, "undo found nothing", story);
      Object.assign(intent, undoStack.pop()!);
      say(`undo: ${d.kind}: ${d.summary}`);
    } else if (r < 0.27 && people.length > 0) {
      kind = "name";
      const p = pick(people);
      const name = `P${++nameCount}`;
      await lib.name(p.id, name);
      for (const f of facesOf(p.id)) intent.pins.set(f.id, p.id);
      intent.names.set(p.id, name);
      say(`name ${p.id} ${name} (${p.faces} faces)`);
    } else if (r < 0.37 && people.length > 1) {
      kind = "merge";
      const a = pick(people), b = pick(people.filter((p) => p.id !== a.id));
      await lib.merge(a.id, [b.id]);
      for (const f of [...facesOf(a.id), ...facesOf(b.id)]) intent.pins.set(f.id, a.id);
      const name = intent.names.get(a.id) ?? intent.names.get(b.id);
      intent.names.delete(b.id);
      if (name !== undefined) intent.names.set(a.id, name);
      say(`merge ${b.id} into ${a.id}`);
    } else if (r < 0.62 && faces.length > 0) {
      kind = "move";
      const moving = [pick(faces)];
      if (rnd() < 0.3) {
        const more = pick(faces);
        if (more.id !== moving[0].id) moving.push(more);
      }
      const targets = people.filter((p) => !moving.every((f) => f.personId === p.id));
      const toNew = targets.length === 0 || rnd() < 0.25;
      const target = toNew ? null : pick(targets);
      await lib.move(moving.map((f) => f.id), target?.id ?? null);
      const ids = moving.map((f) => f.id);
      const to = target?.id ??
        (await lib.faces()).find((f) => f.id === ids[0])!.personId!;
      // the persons the move touches keep their other faces as they are
      const touched = new Set([target?.id, ...moving.map((f) => f.personId)]);
      for (const f of faces) {
        if (f.personId !== null && touched.has(f.personId)) intent.pins.set(f.id, f.personId);
      }
      for (const f of moving) {
        intent.pins.set(f.id, to);
        intent.notFaces.delete(f.id);
        if (f.personId !== null && f.personId !== to) {
          intent.not.set(f.id, new Set([...(intent.not.get(f.id) ?? []), f.personId]));
        }
      }
      say(`move ${ids.join(",")} to ${target ? target.id : `new person ${to}`}`);
    } else if (r < 0.77 && people.some((p) => p.faces >= 2)) {
      kind = "split";
      const p = pick(people.filter((x) => x.faces >= 2));
      const mine = facesOf(p.id);
      const going = mine.filter(() => rnd() < 0.4);
      if (going.length === 0) going.push(mine[0]);
      if (going.length === mine.length) going.pop();
      await lib.split(p.id, going.map((f) => f.id));
      const to = (await lib.faces()).find((f) => f.id === going[0].id)!.personId!;
      const gone = new Set(going.map((f) => f.id));
      for (const f of mine) {
        intent.pins.set(f.id, gone.has(f.id) ? to : p.id);
        if (gone.has(f.id)) {
          intent.not.set(f.id, new Set([...(intent.not.get(f.id) ?? []), p.id]));
        }
      }
      say(`split ${going.map((f) => f.id).join(",")} off ${p.id} into ${to}`);
    } else if (r < 0.93 && inPerson.length > 0) {
      kind = "not_this_person";
      const f = pick(inPerson);
      await lib.notThisPerson([f.id]);
      intent.pins.delete(f.id);
      intent.not.set(f.id, new Set([...(intent.not.get(f.id) ?? []), f.personId!]));
      say(`not-person ${f.id} (was ${f.personId})`);
    } else if (faces.length > 0) {
      kind = "not_a_face";
      const f = pick(faces);
      await lib.notAFace([f.id]);
      intent.pins.delete(f.id);
      intent.notFaces.add(f.id);
      say(`not-face ${f.id}`);
    } else continue;
    report.kinds[kind] = (report.kinds[kind] ?? 0) + 1;
    if (kind !== "undo") {
      undoStack.push(kept);
      await checkIntent(`after ${kind}`);
      // now and then: undo at once, which must give the people back exactly
      if (rnd() < 0.1) {
        await lib.undo();
        Object.assign(intent, undoStack.pop()!);
        check((await tables(lib)) === before, `undo of ${kind} did not restore the people`, story);
        report.kinds.undo = (report.kinds.undo ?? 0) + 1;
        say(`undo at once`);
      }
    }
    await checkIntent(`after ${kind}`);
    if (rnd() < (o.rerunChance ?? 0.6)) await rerun();
  }
  await rerun();
  return report;
}

/**
 * Makes a library of a ../shared/faces set through the CLI (all but the last tenth of
 * `files`, which the steps add a third at a time), then runs {@link decisionProperty} on it
 * in this process, each re-run being the main job's update and folders.
 *
 * @param set The set.
 * @param files Its photos to use (`person/file`).
 * @param o Steps, seed, the model cache, a scratch folder, where the summary line goes.
 * @returns What was done.
 */
export async function propertyOnSet(
  set: string,
  files: string[],
  o: {
    steps: number;
    seed: number;
    cache: string;
    root: string;
    log: (s: string) => void;
    inference?: InferenceDevice;
    /** The library (a `postgres://` address); default the output folder's file. */
    library?: string;
  },
): Promise<PropertyReport> {
  const held = Math.floor(files.length * 0.1);
  const input = `${o.root}/${set}_${o.seed}`, out = `${input}_people`;
  await linkSharedPhotos(set, files.slice(0, files.length - held), input);
  const where = o.library ?? `${out}/library.db`;
  const made = await runCli([
    input,
    "--out",
    out,
    "--library",
    where,
    "--quiet",
    "--cache",
    o.cache,
  ]);
  assertEquals(made.code, 0, made.stderr);
  const lib = await Library.open(where);
  let next = files.length - held;
  try {
    const t0 = performance.now();
    const report = await decisionProperty(lib, {
      steps: o.steps,
      seed: o.seed,
      rerun: () =>
        lib.exclusive(async () => {
          await lib.update(input, { cacheDir: o.cache, exclude: [out], inference: o.inference });
          await exportLibrary(lib, input, out);
        }),
      addPhotos: async () => {
        if (next >= files.length) return false;
        const batch = files.slice(next, next + Math.max(1, Math.ceil(held / 3)));
        next += batch.length;
        await linkSharedPhotos(set, batch, input);
        return true;
      },
      addChance: 0.03,
    });
    o.log(
      `${set} (seed ${o.seed}): ${report.steps} steps (${
        Object.entries(report.kinds).map(([k, n]) => `${k} ${n}`).join(", ")
      }), ${report.reruns} re-runs (${report.added} with new photos), ${report.checks} checks, ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
    );
    return report;
  } finally {
    await lib.close();
  }
}

/**
 * The photos of lfw_min10's first twelve people (310 photos), a small library with real
 * look-alikes.
 *
 * @returns Their paths, as `person/file`.
 */
export function lfwTwelve(): string[] {
  const lfw = sharedPhotos("lfw_min10");
  const twelve = new Set([...new Set(lfw.map((f) => f.split("/")[0]))].slice(0, 12));
  return lfw.filter((f) => twelve.has(f.split("/")[0]));
}
