// The library's parts on their own: the store (schema, transactions, undo, the writer lock),
// one suite run on SQLite and on a throwaway PostgreSQL, the incremental kNN lists against a full search, and Infomap under constraints.

import { SCHEMA_VERSION } from "../../lib/library/sqlite_store.ts";
import { openStore } from "../../lib/library/open_store.ts";
import { copyLibrary } from "../../lib/library/copy.ts";
import type { PgStore } from "../../lib/library/postgres_store.ts";
import { pgCluster, postgresSkip } from "../postgres.ts";
import postgres from "postgres";
import { graphOfLists, updateNeighbours } from "../../lib/library/neighbours.ts";
import { constrainedInfomap } from "../../lib/library/constrained_infomap.ts";
import { recluster } from "../../lib/library/recluster.ts";
import { CpuKnn } from "../../lib/knn/cpu.ts";
import type { LibraryStore, NewFace } from "../../lib/library/store.ts";
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "../shared.ts";

const face = (vector: number[], quality = 1): NewFace => ({
  box: { x: 0, y: 0, width: 10, height: 10 },
  landmarks: [[1, 1], [8, 1], [5, 5], [2, 8], [8, 8]],
  points: [[1, 1], [8, 1], [5, 5], [2, 8], [8, 8]],
  score: 0.9,
  source: "detected",
  quality,
  norm: 11,
  vector: Float32Array.from(vector),
  chip: new Uint8Array([1, 2, 3]),
});
const photo = (path: string) => ({
  path,
  size: 1,
  mtime: 1,
  sha256: path,
  width: 10,
  height: 10,
  status: "faces" as const,
  error: null,
  duplicateOf: null,
});

/** Each store the suite runs on. */
const KINDS = ["sqlite", "postgres"] as const;
type Kind = typeof KINDS[number];

/** A new library of `kind`: a file in a temporary folder, or a new database. */
async function withStore(
  kind: Kind,
  fn: (store: LibraryStore, where: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const where = kind === "sqlite" ? `${dir}/library.db` : await (await pgCluster()).createDb();
  const store = await openStore(where);
  try {
    await fn(store, where, dir);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** One test, run on every store (ignored on PostgreSQL where it is not installed). */
function storeTest(
  name: string,
  fn: (store: LibraryStore, kind: Kind, where: string, dir: string) => Promise<void>,
): void {
  for (const kind of KINDS) {
    Deno.test({
      name: `${name} [${kind}]`,
      ignore: kind === "postgres" && postgresSkip() !== null,
      fn: () => withStore(kind, (store, where, dir) => fn(store, kind, where, dir)),
    });
  }
}

storeTest(
  "library store: schema version, photos with faces, replace, remove cascades",
  async (store, kind, where, dir) => {
    if (kind === "sqlite") {
      const db = new DatabaseSync(where);
      assertEquals(
        (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
        SCHEMA_VERSION,
      );
      assertEquals(
        (db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
        "wal",
      );
      db.close();
    } else assertEquals(await (store as PgStore).schemaVersion(), SCHEMA_VERSION);
    await store.putPhotos([{ photo: photo("a.jpg"), faces: [face([1, 0]), face([0, 1])] }]);
    await store.putPhotos([{ photo: photo("b.jpg"), faces: [face([1, 0])] }]);
    let faces = await store.faces();
    assertEquals(faces.map((f) => f.id), [1, 2, 3]);
    assertEquals([...await store.vectors([2, 3], 2)], [0, 1, 1, 0]);
    assertEquals([...(await store.chip(1))!], [1, 2, 3]);
    // a changed photo at the same path replaces its faces; ids are never reused
    await store.putPhotos([{ photo: photo("a.jpg"), faces: [face([0.6, 0.8])] }]);
    faces = await store.faces();
    assertEquals(faces.map((f) => f.id), [3, 4]);
    await store.saveClustering({
      assign: [{ faceId: 3, personId: -1, similarity: 1 }, {
        faceId: 4,
        personId: -1,
        similarity: 1,
      }],
      pinnedSimilarity: [],
      create: 1,
      centroids: [],
    });
    const b = (await store.photos()).find((p) => p.path === "b.jpg")!;
    await store.removePhotos([b.id]);
    assertEquals((await store.faces()).map((f) => f.id), [4]);
    assertEquals((await store.assignments()).map((a) => a.faceId), [4]);
    // a file (a database) that is not a library is refused by name
    let other = `${dir}/notes.db`;
    if (kind === "sqlite") await Deno.writeTextFile(other, "hello");
    else {
      other = await (await pgCluster()).createDb();
      const sql = postgres(other, { onnotice: () => {} });
      await sql`CREATE TABLE notes(t TEXT)`;
      await sql.end();
    }
    let err = "";
    try {
      await openStore(other);
    } catch (e) {
      err = (e as Error).message;
    }
    assert(err.includes(other.split("/").at(-1)!) && err.includes("library"), err);
  },
);

storeTest(
  "library store: an edit is one transaction with its inverse; undo restores it",
  async (store) => {
    await store.putPhotos([{ photo: photo("a.jpg"), faces: [face([1, 0]), face([0, 1])] }]);
    const [p] = await store.saveClustering({
      assign: [{ faceId: 1, personId: -1, similarity: 1 }, {
        faceId: 2,
        personId: null,
        similarity: 0,
      }],
      pinnedSimilarity: [],
      create: 1,
      centroids: [],
    });
    await store.edit("name", "name", {
      names: [{ personId: p, name: "Ann" }],
      assign: [{ faceId: 1, personId: p, pinned: true }],
    });
    await store.edit("move", "move", {
      create: ["Bob"],
      assign: [{ faceId: 2, personId: -1, pinned: true }],
      addCannot: [{ faceId: 2, personId: p }],
    });
    const persons = await store.persons();
    assertEquals(persons.map((x) => x.name), ["Ann", "Bob"]);
    assertEquals(await store.cannotLinks(), [{ faceId: 2, personId: p }]);
    // a failing edit (a person that does not exist) changes nothing
    let failed = false;
    try {
      await store.edit("name", "bad", {
        assign: [{ faceId: 1, personId: null, pinned: false }],
        names: [{ personId: 999, name: "X" }],
      });
    } catch {
      failed = true;
    }
    assert(failed);
    assertEquals((await store.assignments())[0], {
      faceId: 1,
      personId: p,
      pinned: true,
      similarity: 0,
      hard: false,
    });
    assertEquals((await store.decisions()).length, 2);
    assertEquals((await store.undo())!.kind, "move");
    assertEquals(await store.cannotLinks(), []);
    assertEquals((await store.assignments()).find((a) => a.faceId === 2)!.personId, null);
    assertEquals((await store.undo())!.kind, "name");
    assertEquals((await store.persons())[0].name, null);
    assertEquals((await store.assignments())[0].pinned, false);
    assertEquals(await store.undo(), null);
  },
);

Deno.test("library store: one run at a time; a lock left by a killed run is taken over [sqlite]", () =>
  withStore("sqlite", async (store) => {
    const other = new Deno.Command("sleep", { args: ["30"] }).spawn();
    try {
      await store.lock(other.pid);
      let err = "";
      try {
        await store.lock(Deno.pid);
      } catch (e) {
        err = (e as Error).message;
      }
      assert(err.includes(`process ${other.pid}`), err);
      other.kill("SIGKILL");
      await other.status;
      await store.lock(Deno.pid); // the holder is gone
      await store.unlock(Deno.pid);
    } finally {
      try {
        other.kill("SIGKILL");
      } catch { /* already gone */ }
    }
  }));

Deno.test({
  name:
    "library store: one run at a time; a lock held by a process killed with -9 is released with its connection [postgres]",
  ignore: postgresSkip() !== null,
  fn: () =>
    withStore("postgres", async (store, url) => {
      // another process takes the lock (its own connection) and is killed holding it
      const mod = new URL("../../lib/library/postgres_store.ts", import.meta.url).href;
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `import { PgStore } from "${mod}"; const s = await PgStore.open("${url}"); await s.lock(Deno.pid); console.log("locked"); await new Promise((r) => setTimeout(r, 60000));`,
        ],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      try {
        const reader = child.stdout.getReader();
        const { value } = await reader.read();
        assertEquals(new TextDecoder().decode(value).trim(), "locked");
        reader.releaseLock();
        assertEquals((await store.holder())?.pid, child.pid);
        let err = "";
        try {
          await store.lock(Deno.pid);
        } catch (e) {
          err = (e as Error).message;
        }
        assert(err.includes(`process ${child.pid}`), err);
        // a decision is refused while the other process holds the library
        await store.putPhotos([{ photo: photo("a.jpg"), faces: [face([1, 0])] }]);
        err = "";
        try {
          await store.edit("not_a_face", "x", { notFace: [{ faceId: 1, value: true }] });
        } catch (e) {
          err = (e as Error).message;
        }
        assert(err.includes(`process ${child.pid}`), err);
        child.kill("SIGKILL");
        await child.status;
        await child.stdout.cancel();
        for (let i = 0; (await store.holder()) !== null && i < 50; i++) {
          await new Promise((r) => setTimeout(r, 100));
        }
        await store.lock(Deno.pid); // the holder is gone, and its lock with it
        assertEquals((await store.holder())?.pid, Deno.pid);
        await store.edit("not_a_face", "x", { notFace: [{ faceId: 1, value: true }] });
        await store.unlock(Deno.pid);
        assertEquals(await store.holder(), null);
      } finally {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
    }),
});

function randomUnit(n: number, d: number, seed: number): Float32Array {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
  const v = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += (v[i * d + j] = rnd()) ** 2;
    for (let j = 0; j < d; j++) v[i * d + j] /= Math.sqrt(norm);
  }
  return v;
}

storeTest(
  "library kNN: new faces searched against all and old lists updated equal a full search",
  async (store) => {
    const d = 16, k = 10, n = 300;
    const all = randomUnit(n, d, 7);
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    const photos = ids.map((id) => ({
      photo: photo(`p${id}.jpg`),
      faces: [face(Array.from(all.subarray((id - 1) * d, id * d)))],
    }));
    await store.putPhotos(photos.slice(0, 250));
    const { summary: first } = await updateNeighbours(
      store,
      ids.slice(0, 250),
      all.slice(0, 250 * d),
      d,
      k,
      new CpuKnn({ workers: 0 }),
    );
    assert(first.full);
    await store.putPhotos(photos.slice(250));
    // and one photo gone: the lists that held its face are searched again
    const gone = 17;
    await store.removePhotos([(await store.photos()).find((p) => p.path === `p${gone}.jpg`)!.id]);
    const keep = ids.filter((id) => id !== gone);
    const vec = new Float32Array(keep.length * d);
    keep.forEach((id, i) => vec.set(all.subarray((id - 1) * d, id * d), i * d));
    const { summary: second } = await updateNeighbours(store, keep, vec, d, k);
    assert(!second.full && second.searched < 120, JSON.stringify(second));
    const got = graphOfLists(await store.neighbours(), keep, k);
    const want = await new CpuKnn({ workers: 0 }).search(
      { rows: keep.length, cols: d, data: vec },
      k,
    );
    assertEquals([...got.indices], [...want.indices]);
    for (let i = 0; i < got.similarities.length; i++) {
      assert(Math.abs(got.similarities[i] - want.similarities[i]) < 1e-5, `similarity ${i}`);
    }
  },
);

Deno.test("constrained Infomap: same-photo faces apart, pinned groups together, not-this-person", () => {
  // two tight groups of 4 rows each, linked all to all within a group, weakly across
  const src: number[] = [], tgt: number[] = [], w: number[] = [];
  const link = (a: number, b: number, x: number) => {
    src.push(a, b);
    tgt.push(b, a);
    w.push(x, x);
  };
  for (const g of [[0, 1, 2, 3], [4, 5, 6, 7]]) {
    for (const a of g) for (const b of g) if (a < b) link(a, b, 0.9);
  }
  link(3, 4, 0.3);
  const links = {
    source: Int32Array.from(src),
    target: Int32Array.from(tgt),
    weight: Float32Array.from(w),
  };
  const photos = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
  const none = new Int32Array(8).fill(-1);
  const plain = constrainedInfomap(8, links, { photo: photos, group: none, cannot: new Map() });
  assertEquals(new Set(plain.module.slice(0, 4)).size, 1);
  assert(plain.module[0] !== plain.module[4]);
  // rows 0 and 1 from one photo: never one module
  const samePhoto = constrainedInfomap(8, links, {
    photo: Int32Array.from([0, 0, 2, 3, 4, 5, 6, 7]),
    group: none,
    cannot: new Map(),
  });
  assert(samePhoto.module[0] !== samePhoto.module[1]);
  // the user pinned rows 0 and 7 to one person: they stay together
  const pinned = constrainedInfomap(8, links, {
    photo: photos,
    group: Int32Array.from([5, -1, -1, -1, -1, -1, -1, 5]),
    cannot: new Map(),
  });
  assertEquals(pinned.module[0], pinned.module[7]);
  // row 2 is not person 5 (rows 0, 1 pinned to it): it leaves that module
  const not = constrainedInfomap(8, links, {
    photo: photos,
    group: Int32Array.from([5, 5, -1, -1, -1, -1, -1, -1]),
    cannot: new Map([[2, new Set([5])]]),
  });
  assert(not.module[2] !== not.module[0]);
  assertEquals(not.module[0], not.module[1]);
  // two persons' pinned faces never share a module, however strongly linked
  const two = constrainedInfomap(8, links, {
    photo: photos,
    group: Int32Array.from([1, 2, -1, -1, -1, -1, -1, -1]),
    cannot: new Map(),
  });
  assert(two.module[0] !== two.module[1]);
});

storeTest(
  "recluster: a person near the unrecognisable centre is dissolved into faces hard to recognise, unless the user put a face there",
  async (store) => {
    // three tight groups of five faces in 8-d; group c lies along the centre's axis
    const d = 8, axis = (i: number) => Array.from({ length: d }, (_, j) => (j === i ? 1 : 0));
    const near = (i: number, k: number) => {
      const v = axis(i).map((x, j) => x + (j === (i + 1) % d ? 0.02 * k : 0));
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const groups = { a: 0, b: 2, c: 5 };
    await store.setSetting("model_key", "test");
    for (const [name, i] of Object.entries(groups)) {
      await store.putPhotos(
        Array.from({ length: 5 }, (_, k) => ({
          photo: photo(`${name}${k}.jpg`),
          faces: [face(near(i, k))],
        })),
      );
    }
    const faces = await store.faces();
    const centre = Float32Array.from(axis(5));
    const o = {
      dims: d,
      k: 6,
      minSim: 0.5,
      minQuality: 0.5,
      unrecognisable: { centre, threshold: 0.4 },
    };
    const first = await recluster(store, o);
    assertEquals(first.unrecognisable, { persons: 1, faces: 5 });
    const byFace = new Map((await store.assignments()).map((a) => [a.faceId, a]));
    const inC = faces.filter((f) => f.photoId > 10).map((f) => f.id);
    for (const id of inC) {
      assertEquals([byFace.get(id)?.personId, byFace.get(id)?.hard], [null, true]);
    }
    assertEquals(first.people, 2);
    // the user puts one of them in a person of its own: that person is kept
    await store.edit("move", "a hard face to a new person", {
      create: [null],
      assign: [{ faceId: inC[0], personId: -1, pinned: true }],
    });
    const second = await recluster(store, o);
    assertEquals(second.unrecognisable.persons, 0);
    const now = new Map((await store.assignments()).map((a) => [a.faceId, a]));
    const kept = now.get(inC[0])!;
    assert(kept.personId !== null && kept.pinned && !kept.hard, JSON.stringify(kept));
    // without a centre nothing is dissolved
    const third = await recluster(store, { ...o, unrecognisable: null });
    assertEquals(third.unrecognisable, { persons: 0, faces: 0 });
  },
);

storeTest(
  "recluster: a face near the unrecognisable centre joins nobody, unless the user put it there",
  async (store) => {
    // one tight group of six faces in 8-d; two of them lean towards the centre's axis, enough
    // for the per-face gate (cosine ≥ 0.35), not for the person check (the mean stays far)
    const d = 8;
    const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
    const vecs = [0, 1, 2, 3].map((k) => unit([1, 0.02 * k, 0, 0, 0, 0, 0, 0]))
      .concat([unit([1, 0, 0, 0, 0, 0.55, 0, 0]), unit([1, 0.01, 0, 0, 0, 0.6, 0, 0])]);
    await store.setSetting("model_key", "test");
    await store.putPhotos(vecs.map((v, k) => ({ photo: photo(`g${k}.jpg`), faces: [face(v)] })));
    const centre = Float32Array.from(unit([0, 0, 0, 0, 0, 1, 0, 0]));
    const o = {
      dims: d,
      k: 6,
      minSim: 0.5,
      minQuality: 0.5,
      unrecognisable: { centre, threshold: 0.4, faceThreshold: 0.35 },
    };
    const first = await recluster(store, o);
    assertEquals([first.people, first.unrecognisable], [1, { persons: 0, faces: 2 }]);
    let by = new Map((await store.assignments()).map((a) => [a.faceId, a]));
    assertEquals([5, 6].map((id) => [by.get(id)!.personId, by.get(id)!.hard]), [
      [null, true],
      [null, true],
    ]);
    const person = by.get(1)!.personId!;
    assert([2, 3, 4].every((id) => by.get(id)!.personId === person));
    // without the gate they join the group
    const open = await recluster(store, { ...o, unrecognisable: { centre, threshold: 0.4 } });
    assertEquals(open.unrecognisable.faces, 0);
    by = new Map((await store.assignments()).map((a) => [a.faceId, a]));
    assert([5, 6].every((id) => by.get(id)!.personId === person), "ungated, they join");
    // the user puts one in the person: it stays, the gate notwithstanding
    await store.edit("move", "face 5 is this person", {
      assign: [{ faceId: 5, personId: person, pinned: true }],
    });
    const third = await recluster(store, o);
    assertEquals(third.unrecognisable.faces, 1);
    by = new Map((await store.assignments()).map((a) => [a.faceId, a]));
    assertEquals([by.get(5)!.personId, by.get(5)!.hard], [person, false]);
    assertEquals([by.get(6)!.personId, by.get(6)!.hard], [null, true]);
  },
);

storeTest(
  "recluster: an unchanged library keeps its clustering without kNN or Infomap; a decision, a new face or a setting clusters again",
  async (store) => {
    const d = 4,
      axis = (i: number, k: number) => {
        const v = Array.from(
          { length: d },
          (_, j) => (j === i ? 1 : j === (i + 1) % d ? 0.05 * k : 0),
        );
        const n = Math.hypot(...v);
        return v.map((x) => x / n);
      };
    await store.setSetting("model_key", "test");
    for (const i of [0, 2]) {
      await store.putPhotos(
        Array.from(
          { length: 4 },
          (_, k) => ({ photo: photo(`g${i}_${k}.jpg`), faces: [face(axis(i, k))] }),
        ),
      );
    }
    const o = { dims: d, k: 5, minSim: 0.5, minQuality: 0.5 };
    const first = await recluster(store, o);
    assertEquals([first.people, first.neighbours.backend === "unchanged"], [2, false]);
    const before = await store.assignments();
    const again = await recluster(store, o);
    assertEquals([again.people, again.moved, again.neighbours.backend], [2, 0, "unchanged"]);
    assertEquals(await store.assignments(), before);
    // a setting that changes the clustering
    const lower = await recluster(store, { ...o, minSim: 0.4 });
    assert(lower.neighbours.backend !== "unchanged");
    assertEquals((await recluster(store, { ...o, minSim: 0.4 })).neighbours.backend, "unchanged");
    // a decision: the user names nobody but pins a face of one group to the other's person
    const people = [...new Set(before.map((a) => a.personId))];
    await store.edit("move", "one face over", {
      assign: [{ faceId: before[0].faceId, personId: people[1]!, pinned: true }],
    });
    const moved = await recluster(store, { ...o, minSim: 0.4 });
    assert(moved.neighbours.backend !== "unchanged");
    // a new face
    await store.putPhotos([{ photo: photo("new.jpg"), faces: [face(axis(0, 5))] }]);
    const added = await recluster(store, { ...o, minSim: 0.4 });
    assertEquals([added.faces, added.neighbours.searched], [9, 1]);
  },
);

storeTest(
  "library store: pages of people and faces equal what the whole-library reads give",
  async (store) => {
    const d = 4,
      axis = (i: number, k: number) => {
        const v = Array.from(
          { length: d },
          (_, j) => (j === i ? 1 : j === (i + 1) % d ? 0.07 * k : 0),
        );
        const n = Math.hypot(...v);
        return v.map((x) => x / n);
      };
    await store.setSetting("model_key", "test");
    for (const [i, size] of [[0, 7], [2, 4]]) {
      await store.putPhotos(
        Array.from(
          { length: size },
          (_, k) => ({ photo: photo(`g${i}_${k}.jpg`), faces: [face(axis(i, k))] }),
        ),
      );
    }
    // one face alone, one below the quality gate
    await store.putPhotos([{ photo: photo("alone.jpg"), faces: [face(axis(1, 0))] }]);
    await store.putPhotos([{ photo: photo("blurry.jpg"), faces: [face(axis(3, 0), 0.2)] }]);
    await recluster(store, { dims: d, k: 5, minSim: 0.5, minQuality: 0.5 });
    const all = await store.assignments();
    const faces = await store.faces();
    const counts = await store.personCounts();
    assertEquals(counts.map((c) => c.faces).sort(), [4, 7]);
    for (const c of counts) {
      const mine = all.filter((a) => a.personId === c.id).sort((a, b) =>
        a.similarity - b.similarity || a.faceId - b.faceId
      );
      assertEquals(c.faces, mine.length);
      const page = await store.facePage({ person: c.id }, 1, 3);
      assertEquals(page.total, mine.length);
      assertEquals(page.faces.map((r) => r.face.id), mine.slice(1, 4).map((a) => a.faceId));
      const best = [...mine].sort((a, b) => b.similarity - a.similarity || a.faceId - b.faceId)[0];
      assertEquals(await store.personDetail(c.id), {
        photos: mine.length,
        representative: best.faceId,
      });
    }
    const alone = await store.facePage({ outside: "alone", gate: 0.5 }, 0, 10);
    assertEquals(alone.faces.map((r) => r.path), ["alone.jpg"]);
    const notFaces = await store.facePage({ outside: "notfaces", gate: 0.5 }, 0, 10);
    assertEquals(notFaces.faces.map((r) => r.path), ["blurry.jpg"]);
    assertEquals((await store.facePage({ outside: "hard", gate: 0.5 }, 0, 10)).total, 0);
    const [one] = await store.facesById([faces[3].id, 10_000]).then((r) => r.slice(0, 1));
    assertEquals([one.face.id, one.path, one.assignment?.faceId], [
      faces[3].id,
      "g0_3.jpg",
      faces[3].id,
    ]);
  },
);

storeTest(
  "library kNN: many new faces searched in the workers equal a full search",
  async (store) => {
    // 1,000 new faces against 5,000 × 64: above the work that runs on the calling thread
    const d = 64, k = 12, n = 5000;
    const all = randomUnit(n, d, 11);
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    const photos = ids.map((id) => ({
      photo: photo(`p${id}.jpg`),
      faces: [face(Array.from(all.subarray((id - 1) * d, id * d)))],
    }));
    await store.putPhotos(photos.slice(0, 4000));
    await updateNeighbours(store, ids.slice(0, 4000), all.slice(0, 4000 * d), d, k);
    await store.putPhotos(photos.slice(4000));
    const { summary, graph } = await updateNeighbours(store, ids, all, d, k);
    assertEquals([summary.full, summary.searched], [false, 1000]);
    const want = await new CpuKnn({ method: "exact" }).search({ rows: n, cols: d, data: all }, k);
    assertEquals([...graph.indices], [...want.indices]);
    // and what was stored is the same graph
    const stored = graphOfLists(await store.neighbours(), ids, k);
    assertEquals([...stored.indices], [...want.indices]);
  },
);

Deno.test({
  name:
    "library copy: SQLite → PostgreSQL → SQLite keeps photos, faces, vectors, people, decisions and undo, ids included",
  ignore: postgresSkip() !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/library.db`;
      const a = await openStore(file);
      await a.setSetting("model_key", "m");
      await a.putPhotos([
        { photo: photo("a.jpg"), faces: [face([1, 0]), face([0, 1])] },
        { photo: photo("b.jpg"), faces: [face([0.6, 0.8])] },
      ]);
      await a.putPhotos([{
        photo: { ...photo("b copy.jpg"), sha256: "b.jpg", duplicateOf: 2 },
        faces: [],
      }]);
      const [p] = await a.saveClustering({
        assign: [1, 2, 3].map((faceId) => ({ faceId, personId: -1, similarity: 0.9 })),
        pinnedSimilarity: [],
        create: 1,
        centroids: [{ personId: -1, centroid: Float32Array.from([0.6, 0.8]) }],
      });
      await a.putNeighbours([{
        faceId: 1,
        ids: Int32Array.from([1, 3]),
        sims: Float32Array.from([1, 0.6]),
      }], []);
      await a.edit("name", "Alice", {
        names: [{ personId: p, name: "Alice" }],
        assign: [{ faceId: 1, personId: p, pinned: true }],
      });
      await a.edit("not_this_person", "face 2", {
        assign: [{ faceId: 2, personId: null, pinned: false }],
        addCannot: [{ faceId: 2, personId: p }],
      });
      await a.putOutputs("/out", [{ path: "Alice/a.jpg", size: 5, mtime: 7 }], []);
      const state = async (s: LibraryStore) =>
        JSON.stringify({
          snap: await s.snapshot(),
          vectors: [...await s.vectors([1, 2, 3], 2)],
          chip: [...(await s.chip(3))!],
          lists: (await s.neighbours()).map((l) => [l.faceId, [...l.ids], [...l.sims]]),
          cannot: await s.cannotLinks(),
          decisions: await s.decisions(),
          outputs: await s.outputs("/out"),
          model: await s.setting("model_key"),
        }, (_k, v) => (v instanceof Float32Array ? [...v] : v));
      const before = await state(a);
      await a.close();
      const url = await (await pgCluster()).createDb();
      const r = await copyLibrary(file, url);
      assertEquals(r, { photos: 3, faces: 3, persons: 1, decisions: 2 });
      const back = `${dir}/back.db`;
      const cli = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../../cli.ts", import.meta.url).pathname,
          "library",
          "copy",
          url,
          back,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(cli.code, 0, new TextDecoder().decode(cli.stderr));
      for (const where of [url, back]) {
        const s = await openStore(where);
        try {
          assertEquals(await state(s), before, where);
          // the copy goes on: undo, and new ids after the copied ones
          assertEquals((await s.undo())!.kind, "not_this_person");
          assertEquals((await s.assignments()).find((x) => x.faceId === 2)!.personId, p);
          await s.putPhotos([{ photo: photo("c.jpg"), faces: [face([1, 0])] }]);
          assertEquals(Math.max(...(await s.faces()).map((f) => f.id)), 4);
        } finally {
          await s.close();
        }
      }
      // into a library that has photos: refused, nothing written
      let err = "";
      try {
        await copyLibrary(file, back);
      } catch (e) {
        err = (e as Error).message;
      }
      assert(err.includes("not empty"), err);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
