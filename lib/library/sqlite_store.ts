/**
 * The library in one SQLite file (`node:sqlite`, built into Deno): WAL mode, foreign keys,
 * a versioned schema migrated on open, every write in one `BEGIN IMMEDIATE` transaction,
 * so that a run killed at any moment leaves the file as it was before the write.
 *
 * @module
 */

import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { bytes, f32, i32, now } from "./cells.ts";
import { InputError, LibraryBusyError } from "../errors.ts";
import type {
  Assignment,
  CannotLink,
  Clustering,
  Decision,
  Edit,
  FacePage,
  FacePageFilter,
  FaceRow,
  LibrarySnapshot,
  LibraryStore,
  LockHolder,
  NeighbourList,
  NewFace,
  OutputFile,
  PersonCount,
  StoredFace,
  StoredPerson,
  StoredPhoto,
  TableRows,
} from "./store.ts";
import { TABLES } from "./store.ts";

/** Up to this many vectors are read one by one; more, in one pass over all. */
const FEW_VECTORS = 20_000;

/** The schema version this code writes. */
export const SCHEMA_VERSION = 2;

/** Migrations: entry `v` takes a version-`v` file to version `v + 1`. */
const MIGRATIONS: string[] = [
  `CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE photos(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, size INTEGER NOT NULL,
    mtime INTEGER NOT NULL, sha256 TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
    status TEXT NOT NULL, error TEXT,
    duplicate_of INTEGER REFERENCES photos(id) ON DELETE CASCADE);
  CREATE INDEX photos_sha256 ON photos(sha256);
  CREATE TABLE faces(id INTEGER PRIMARY KEY AUTOINCREMENT,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    box TEXT NOT NULL, landmarks TEXT NOT NULL, points TEXT NOT NULL, score REAL NOT NULL,
    source TEXT NOT NULL, quality REAL NOT NULL, norm REAL, not_face INTEGER NOT NULL DEFAULT 0,
    chip BLOB);
  CREATE INDEX faces_photo ON faces(photo_id);
  CREATE TABLE vectors(face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    model TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY(face_id, model));
  CREATE TABLE neighbours(face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
    ids BLOB NOT NULL, sims BLOB NOT NULL);
  CREATE TABLE persons(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, created TEXT NOT NULL,
    centroid BLOB);
  CREATE TABLE assignments(face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
    person_id INTEGER REFERENCES persons(id), pinned INTEGER NOT NULL DEFAULT 0,
    similarity REAL NOT NULL DEFAULT 0);
  CREATE INDEX assignments_person ON assignments(person_id);
  CREATE TABLE cannot_links(face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES persons(id), PRIMARY KEY(face_id, person_id));
  CREATE TABLE decisions(id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,
    kind TEXT NOT NULL, summary TEXT NOT NULL, payload TEXT NOT NULL, inverse TEXT NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE outputs(out TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,
    mtime INTEGER NOT NULL, PRIMARY KEY(out, path));`,
  // 1 → 2: faces kept out of people as hard to recognise (a clustering's result, like a person)
  `ALTER TABLE assignments ADD COLUMN hard INTEGER NOT NULL DEFAULT 0;`,
];

type Row = Record<string, SQLInputValue>;

/** The columns {@link faceRow} reads (faces f, photos ph, assignments a). */
const FACE_ROW = `f.id, f.photo_id, f.box, f.points, f.score, f.source, f.quality, f.norm,
  f.not_face, ph.path, a.face_id AS a_face, a.person_id, a.pinned, a.similarity, a.hard`;

/** A face from a row of the faces table. */
function storedFace(r: Row): StoredFace {
  return {
    id: r.id as number,
    photoId: r.photo_id as number,
    box: JSON.parse(r.box as string),
    points: JSON.parse(r.points as string),
    score: r.score as number,
    source: r.source as StoredFace["source"],
    quality: r.quality as number,
    norm: (r.norm as number | null) ?? NaN,
    notFace: r.not_face === 1,
  };
}

/** A face with its photo's path and assignment from a {@link FACE_ROW} row. */
function faceRow(r: Row): FaceRow {
  return {
    face: storedFace(r),
    path: r.path as string,
    assignment: r.a_face === null ? null : {
      faceId: r.id as number,
      personId: r.person_id as number | null,
      pinned: r.pinned === 1,
      similarity: r.similarity as number,
      hard: r.hard === 1,
    },
  };
}

/** A decision row as the interface gives it. */
function decisionOf(r: Row): Decision {
  return {
    id: r.id as number,
    at: r.at as string,
    kind: r.kind as string,
    summary: r.summary as string,
    undone: r.undone === 1,
  };
}

/** Is a process with this id running (Linux: /proc; elsewhere: assumed gone)? */
function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** The inverse of an edit, as logged. */
interface Inverse {
  assign: { faceId: number; personId: number | null; pinned: boolean; existed: boolean }[];
  names: { personId: number; name: string | null }[];
  removeCannot: CannotLink[];
  notFace: { faceId: number; value: boolean }[];
}

/**
 * A {@link LibraryStore} in one SQLite file.
 *
 * @example
 * ```ts
 * import { SqliteStore } from "./sqlite_store.ts";
 * const dir = await Deno.makeTempDir();
 * const store = await SqliteStore.open(`${dir}/library.db`);
 * console.log((await store.photos()).length); // 0
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SqliteStore implements LibraryStore {
  /** The file. */
  readonly location: string;
  #db: DatabaseSync;

  private constructor(location: string, db: DatabaseSync) {
    this.location = location;
    this.#db = db;
  }

  /**
   * Opens (creating and migrating) a library file.
   *
   * @param path The file.
   * @returns The store.
   * @throws {InputError} When the file is not a library, or is from a newer facecluster.
   */
  static open(path: string): Promise<SqliteStore> {
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { timeout: 10_000 });
      // 16 KB pages for a new file (an existing one keeps its own): a face's row with its
      // 2.8 KB chip fills a 4 KB page alone, wasting a third of it; five share a 16 KB one
      db.exec(
        "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
      );
    } catch (e) {
      throw new InputError(path, `cannot open the library: ${(e as Error).message}`);
    }
    const store = new SqliteStore(path, db);
    try {
      store.#migrate();
    } catch (e) {
      db.close();
      throw e instanceof InputError
        ? e
        : new InputError(path, `not a facecluster library: ${(e as Error).message}`);
    }
    return Promise.resolve(store);
  }

  #migrate(): void {
    const version = (this.#db.prepare("PRAGMA user_version").get() as { user_version: number })
      .user_version;
    if (version > SCHEMA_VERSION) {
      throw new InputError(
        this.location,
        `library schema version ${version} is newer than this facecluster's (${SCHEMA_VERSION})`,
      );
    }
    if (version === 0) {
      const tables = this.#db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as {
        n: number;
      };
      if (tables.n > 0) throw new InputError(this.location, "not a facecluster library");
    }
    for (let v = version; v < SCHEMA_VERSION; v++) {
      this.#tx(() => {
        this.#db.exec(MIGRATIONS[v]);
        this.#db.exec(`PRAGMA user_version = ${v + 1}`);
      });
    }
  }

  /** Runs `fn` in one immediate transaction. */
  #tx<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const r = fn();
      this.#db.exec("COMMIT");
      return r;
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#db.prepare(sql).all(...params) as Row[];
  }

  /** {@inheritDoc LibraryStore.setting} */
  setting(key: string): Promise<string | null> {
    const r = this.#db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return Promise.resolve(r?.value ?? null);
  }

  /** {@inheritDoc LibraryStore.setSetting} */
  setSetting(key: string, value: string): Promise<void> {
    this.#tx(() =>
      this.#db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)").run(key, value)
    );
    return Promise.resolve();
  }

  /** The library's embedding model (its key; vectors are kept per model). */
  #model(): string {
    const r = this.#db.prepare("SELECT value FROM meta WHERE key = 'model_key'").get() as
      | { value: string }
      | undefined;
    return r?.value ?? "";
  }

  /** Who holds the writer lock, if anyone. */
  #lockHolder(): LockHolder | null {
    const r = this.#db.prepare("SELECT value FROM meta WHERE key = 'lock'").get() as
      | { value: string }
      | undefined;
    return r ? JSON.parse(r.value) : null;
  }

  /** {@inheritDoc LibraryStore.lock} */
  lock(owner: number): Promise<void> {
    this.#tx(() => {
      this.#refuseIfHeld(owner);
      this.#db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('lock', ?)")
        .run(JSON.stringify({ pid: owner, at: now() }));
    });
    return Promise.resolve();
  }

  /** Throws when a live process other than `owner` holds the writer lock (in a transaction). */
  #refuseIfHeld(owner: number): void {
    const held = this.#lockHolder();
    if (held && held.pid !== owner && alive(held.pid)) {
      throw new LibraryBusyError(this.location, held.pid, held.at);
    }
  }

  /** {@inheritDoc LibraryStore.holder} */
  holder(): Promise<LockHolder | null> {
    const held = this.#lockHolder();
    return Promise.resolve(held && alive(held.pid) ? held : null);
  }

  /** {@inheritDoc LibraryStore.snapshot} */
  snapshot(): Promise<LibrarySnapshot> {
    // one read transaction, synchronous (nothing else on this connection runs in between):
    // in WAL mode every read in it sees the same commit
    this.#db.exec("BEGIN");
    try {
      return Promise.resolve({
        photos: this.#photos(),
        faces: this.#faces(),
        assignments: this.#assignments(),
        persons: this.#persons(),
      });
    } finally {
      this.#db.exec("COMMIT");
    }
  }

  /** {@inheritDoc LibraryStore.unlock} */
  unlock(owner: number): Promise<void> {
    this.#tx(() => {
      if (this.#lockHolder()?.pid === owner) {
        this.#db.exec("DELETE FROM meta WHERE key = 'lock'");
      }
    });
    return Promise.resolve();
  }

  /** {@inheritDoc LibraryStore.photos} */
  photos(): Promise<StoredPhoto[]> {
    return Promise.resolve(this.#photos());
  }

  #photos(where = "", ...params: SQLInputValue[]): StoredPhoto[] {
    return this.#all(`SELECT * FROM photos ${where} ORDER BY id`, ...params).map((r) => ({
      id: r.id as number,
      path: r.path as string,
      size: r.size as number,
      mtime: r.mtime as number,
      sha256: r.sha256 as string,
      width: r.width as number,
      height: r.height as number,
      status: r.status as StoredPhoto["status"],
      error: r.error as string | null,
      duplicateOf: r.duplicate_of as number | null,
    }));
  }

  /** {@inheritDoc LibraryStore.findPhotos} */
  findPhotos(paths: string[], shas: string[]): Promise<StoredPhoto[]> {
    // json_each: one statement whatever the number of keys
    return Promise.resolve(this.#photos(
      "WHERE path IN (SELECT value FROM json_each(?)) OR sha256 IN (SELECT value FROM json_each(?))",
      JSON.stringify(paths),
      JSON.stringify(shas),
    ));
  }

  /** {@inheritDoc LibraryStore.putPhotos} */
  putPhotos(items: { photo: Omit<StoredPhoto, "id">; faces: NewFace[] }[]): Promise<void> {
    const db = this.#db;
    this.#tx(() => {
      const del = db.prepare("DELETE FROM photos WHERE path = ?");
      const ins = db.prepare(
        "INSERT INTO photos(path, size, mtime, sha256, width, height, status, error, duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      );
      const face = db.prepare(
        "INSERT INTO faces(photo_id, box, landmarks, points, score, source, quality, norm, chip) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      );
      const vec = db.prepare("INSERT INTO vectors(face_id, model, vector) VALUES (?, ?, ?)");
      const model = this.#model();
      for (const { photo: p, faces } of items) {
        del.run(p.path);
        const id = ins.run(
          p.path,
          p.size,
          p.mtime,
          p.sha256,
          p.width,
          p.height,
          p.status,
          p.error,
          p.duplicateOf,
        ).lastInsertRowid;
        for (const f of faces) {
          const fid = face.run(
            id,
            JSON.stringify(f.box),
            // the five points (below) are what alignment needs again; the detector's 68
            // would cost 0.9 KB a face (a fifth of the library) and are never read back
            "[]",
            JSON.stringify(f.points),
            f.score,
            f.source,
            f.quality,
            Number.isFinite(f.norm) ? f.norm : null,
            f.chip,
          ).lastInsertRowid;
          vec.run(fid, model, bytes(f.vector));
        }
      }
    });
    return Promise.resolve();
  }

  /** {@inheritDoc LibraryStore.movePhoto} */
  movePhoto(id: number, path: string, size: number, mtime: number): Promise<void> {
    this.#tx(() =>
      this.#db.prepare("UPDATE photos SET path = ?, size = ?, mtime = ? WHERE id = ?")
        .run(path, size, mtime, id)
    );
    return Promise.resolve();
  }

  /** {@inheritDoc LibraryStore.removePhotos} */
  removePhotos(ids: number[]): Promise<void> {
    const del = this.#db.prepare("DELETE FROM photos WHERE id = ?");
    this.#tx(() => ids.forEach((id) => del.run(id)));
    return Promise.resolve();
  }

  /** {@inheritDoc LibraryStore.faces} */
  faces(): Promise<StoredFace[]> {
    return Promise.resolve(this.#faces());
  }

  #faces(): StoredFace[] {
    return this.#all(
      "SELECT id, photo_id, box, points, score, source, quality, norm, not_face FROM faces ORDER BY id",
    ).map(storedFace);
  }

  /** {@inheritDoc LibraryStore.personCounts} */
  personCounts(): Promise<PersonCount[]> {
    return Promise.resolve(
      this.#all(
        `SELECT a.person_id AS id, p.name AS name, COUNT(*) AS faces, SUM(a.pinned) AS pinned
         FROM assignments a LEFT JOIN persons p ON p.id = a.person_id
         WHERE a.person_id IS NOT NULL GROUP BY a.person_id`,
      ).map((r) => ({
        id: r.id as number,
        name: r.name as string | null,
        faces: r.faces as number,
        pinned: r.pinned as number,
      })),
    );
  }

  /** {@inheritDoc LibraryStore.personDetail} */
  personDetail(personId: number): Promise<{ photos: number; representative: number }> {
    const photos = this.#db.prepare(
      `SELECT COUNT(DISTINCT f.photo_id) AS n FROM assignments a JOIN faces f ON f.id = a.face_id
       WHERE a.person_id = ?`,
    ).get(personId) as { n: number };
    const rep = this.#db.prepare(
      `SELECT face_id FROM assignments WHERE person_id = ?
       ORDER BY similarity DESC, face_id LIMIT 1`,
    ).get(personId) as { face_id: number } | undefined;
    return Promise.resolve({ photos: photos.n, representative: rep?.face_id ?? -1 });
  }

  /** {@inheritDoc LibraryStore.facePage} */
  facePage(which: FacePageFilter, offset: number, limit: number): Promise<FacePage> {
    const from = `FROM faces f JOIN photos ph ON ph.id = f.photo_id
      LEFT JOIN assignments a ON a.face_id = f.id`;
    let where: string, order: string;
    const params: SQLInputValue[] = [];
    if ("person" in which) {
      where = "a.person_id = ?";
      params.push(which.person);
      order = "a.similarity, f.id";
    } else {
      const notFace = "(f.not_face = 1 OR f.quality < ?)";
      params.push(which.gate);
      where = "a.person_id IS NULL AND " +
        (which.outside === "notfaces"
          ? notFace
          : `NOT ${notFace} AND COALESCE(a.hard, 0) = ${which.outside === "hard" ? 1 : 0}`);
      order = "f.id";
    }
    this.#db.exec("BEGIN");
    try {
      const total = (this.#db.prepare(`SELECT COUNT(*) AS n ${from} WHERE ${where}`)
        .get(...params) as { n: number }).n;
      const rows = this.#all(
        `SELECT ${FACE_ROW} ${from} WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`,
        ...params,
        limit,
        offset,
      );
      return Promise.resolve({ total, faces: rows.map(faceRow) });
    } finally {
      this.#db.exec("COMMIT");
    }
  }

  /** {@inheritDoc LibraryStore.facesById} */
  facesById(ids: number[]): Promise<FaceRow[]> {
    const one = this.#db.prepare(
      `SELECT ${FACE_ROW} FROM faces f JOIN photos ph ON ph.id = f.photo_id
       LEFT JOIN assignments a ON a.face_id = f.id WHERE f.id = ?`,
    );
    const out: FaceRow[] = [];
    for (const id of ids) {
      const r = one.get(id) as Row | undefined;
      if (r) out.push(faceRow(r));
    }
    return Promise.resolve(out);
  }

  /** {@inheritDoc LibraryStore.vectors} */
  vectors(ids: number[], dims: number): Promise<Float32Array> {
    const out = new Float32Array(ids.length * dims);
    if (ids.length <= FEW_VECTORS) {
      // a few (a page, a person): one lookup each by the primary key
      const one = this.#db.prepare("SELECT vector FROM vectors WHERE face_id = ? AND model = ?");
      const model = this.#model();
      ids.forEach((id, i) => {
        const r = one.get(id, model) as { vector: Uint8Array } | undefined;
        if (!r) throw new Error(`${this.location}: face ${id} has no vector`);
        out.set(f32(r.vector).subarray(0, dims), i * dims);
      });
      return Promise.resolve(out);
    }
    // one pass over the model's vectors (the stages want most of them), placed by id
    const row = new Map(ids.map((id, i) => [id, i]));
    const got = new Uint8Array(ids.length);
    const q = this.#db.prepare("SELECT face_id, vector FROM vectors WHERE model = ?");
    for (const r of q.iterate(this.#model()) as Iterable<{ face_id: number; vector: Uint8Array }>) {
      const i = row.get(r.face_id);
      if (i === undefined) continue;
      out.set(f32(r.vector).subarray(0, dims), i * dims);
      got[i] = 1;
    }
    const missing = got.indexOf(0);
    if (missing >= 0) throw new Error(`${this.location}: face ${ids[missing]} has no vector`);
    return Promise.resolve(out);
  }

  /** {@inheritDoc LibraryStore.chip} */
  chip(faceId: number): Promise<Uint8Array | null> {
    const r = this.#db.prepare("SELECT chip FROM faces WHERE id = ?").get(faceId) as
      | { chip: Uint8Array | null }
      | undefined;
    return Promise.resolve(r?.chip ?? null);
  }

  /** {@inheritDoc LibraryStore.neighbours} */
  neighbours(): Promise<NeighbourList[]> {
    return Promise.resolve(
      this.#all("SELECT * FROM neighbours ORDER BY face_id").map((r) => ({
        faceId: r.face_id as number,
        ids: i32(r.ids as Uint8Array),
        sims: f32(r.sims as Uint8Array),
      })),
    );
  }

  /** {@inheritDoc LibraryStore.putNeighbours} */
  putNeighbours(lists: NeighbourList[], remove: number[]): Promise<void> {
    const put = this.#db.prepare(
      "INSERT OR REPLACE INTO neighbours(face_id, ids, sims) VALUES (?, ?, ?)",
    );
    const del = this.#db.prepare("DELETE FROM neighbours WHERE face_id = ?");
    this.#tx(() => {
      for (const id of remove) del.run(id);
      for (const l of lists) put.run(l.faceId, bytes(l.ids), bytes(l.sims));
    });
    return Promise.resolve();
  }

  /** {@inheritDoc LibraryStore.persons} */
  persons(): Promise<StoredPerson[]> {
    return Promise.resolve(this.#persons());
  }

  #persons(): StoredPerson[] {
    return this.#all("SELECT * FROM persons ORDER BY id").map((r) => ({
      id: r.id as number,
      name: r.name as string | null,
      created: r.created as string,
      centroid: r.centroid ? f32(r.centroid as Uint8Array) : null,
    }));
  }

  /** {@inheritDoc LibraryStore.assignments} */
  assignments(): Promise<Assignment[]> {
    return Promise.resolve(this.#assignments());
  }

  #assignments(): Assignment[] {
    return this.#all("SELECT * FROM assignments ORDER BY face_id").map((r) => ({
      faceId: r.face_id as number,
      personId: r.person_id as number | null,
      pinned: r.pinned === 1,
      similarity: r.similarity as number,
      hard: r.hard === 1,
    }));
  }

  /** {@inheritDoc LibraryStore.cannotLinks} */
  cannotLinks(): Promise<CannotLink[]> {
    return Promise.resolve(
      this.#all("SELECT * FROM cannot_links ORDER BY face_id, person_id").map((r) => ({
        faceId: r.face_id as number,
        personId: r.person_id as number,
      })),
    );
  }

  #createPersons(names: (string | null)[]): number[] {
    const ins = this.#db.prepare("INSERT INTO persons(name, created) VALUES (?, ?)");
    return names.map((n) => Number(ins.run(n, now()).lastInsertRowid));
  }

  /** {@inheritDoc LibraryStore.saveClustering} */
  saveClustering(c: Clustering): Promise<number[]> {
    const db = this.#db;
    return Promise.resolve(this.#tx(() => {
      const created = this.#createPersons(Array(c.create).fill(null));
      const id = (p: number | null) => (p !== null && p < 0 ? created[-p - 1] : p);
      db.exec("DELETE FROM assignments WHERE pinned = 0");
      const ins = db.prepare(
        "INSERT OR REPLACE INTO assignments(face_id, person_id, pinned, similarity, hard) VALUES (?, ?, 0, ?, ?)",
      );
      for (const a of c.assign) ins.run(a.faceId, id(a.personId), a.similarity, a.hard ? 1 : 0);
      const sim = db.prepare("UPDATE assignments SET similarity = ? WHERE face_id = ?");
      for (const p of c.pinnedSimilarity) sim.run(p.similarity, p.faceId);
      const cen = db.prepare("UPDATE persons SET centroid = ? WHERE id = ?");
      for (const p of c.centroids) cen.run(bytes(p.centroid), id(p.personId));
      return created;
    }));
  }

  /** {@inheritDoc LibraryStore.edit} */
  edit(kind: string, summary: string, change: Edit): Promise<number> {
    const db = this.#db;
    return Promise.resolve(this.#tx(() => {
      this.#refuseIfHeld(Deno.pid);
      const created = this.#createPersons(change.create ?? []);
      const pid = (p: number | null) => (p !== null && p < 0 ? created[-p - 1] : p);
      const inv: Inverse = { assign: [], names: [], removeCannot: [], notFace: [] };
      const getA = db.prepare("SELECT person_id, pinned FROM assignments WHERE face_id = ?");
      const putA = db.prepare(
        "INSERT OR REPLACE INTO assignments(face_id, person_id, pinned, similarity) VALUES (?, ?, ?, 0)",
      );
      for (const a of change.assign ?? []) {
        const before = getA.get(a.faceId) as
          | { person_id: number | null; pinned: number }
          | undefined;
        inv.assign.push({
          faceId: a.faceId,
          personId: before?.person_id ?? null,
          pinned: before?.pinned === 1,
          existed: before !== undefined,
        });
        putA.run(a.faceId, pid(a.personId), a.pinned ? 1 : 0);
      }
      const getN = db.prepare("SELECT name FROM persons WHERE id = ?");
      const putN = db.prepare("UPDATE persons SET name = ? WHERE id = ?");
      for (const n of change.names ?? []) {
        const before = getN.get(pid(n.personId)) as { name: string | null } | undefined;
        if (!before) throw new InputError(`person ${n.personId}`, "no such person");
        inv.names.push({ personId: pid(n.personId)!, name: before.name });
        putN.run(n.name, pid(n.personId));
      }
      const addC = db.prepare(
        "INSERT OR IGNORE INTO cannot_links(face_id, person_id) VALUES (?, ?)",
      );
      for (const c of change.addCannot ?? []) {
        const p = pid(c.personId)!;
        if (addC.run(c.faceId, p).changes > 0) {
          inv.removeCannot.push({ faceId: c.faceId, personId: p });
        }
      }
      const getF = db.prepare("SELECT not_face FROM faces WHERE id = ?");
      const putF = db.prepare("UPDATE faces SET not_face = ? WHERE id = ?");
      for (const f of change.notFace ?? []) {
        const before = getF.get(f.faceId) as { not_face: number } | undefined;
        if (!before) throw new InputError(`face ${f.faceId}`, "no such face");
        inv.notFace.push({ faceId: f.faceId, value: before.not_face === 1 });
        putF.run(f.value ? 1 : 0, f.faceId);
      }
      return Number(
        db.prepare(
          "INSERT INTO decisions(at, kind, summary, payload, inverse) VALUES (?, ?, ?, ?, ?)",
        ).run(now(), kind, summary, JSON.stringify({ ...change, created }), JSON.stringify(inv))
          .lastInsertRowid,
      );
    }));
  }

  /** {@inheritDoc LibraryStore.undo} */
  undo(): Promise<Decision | null> {
    const db = this.#db;
    return Promise.resolve(this.#tx(() => {
      this.#refuseIfHeld(Deno.pid);
      const r = db.prepare(
        "SELECT * FROM decisions WHERE undone = 0 ORDER BY id DESC LIMIT 1",
      ).get() as Row | undefined;
      if (!r) return null;
      const inv = JSON.parse(r.inverse as string) as Inverse;
      const faceExists = db.prepare("SELECT 1 FROM faces WHERE id = ?");
      for (const a of inv.assign.toReversed()) {
        if (!faceExists.get(a.faceId)) continue; // its photo is gone
        if (!a.existed) db.prepare("DELETE FROM assignments WHERE face_id = ?").run(a.faceId);
        else {
          db.prepare(
            "INSERT OR REPLACE INTO assignments(face_id, person_id, pinned, similarity) VALUES (?, ?, ?, 0)",
          ).run(a.faceId, a.personId, a.pinned ? 1 : 0);
        }
      }
      for (const n of inv.names.toReversed()) {
        db.prepare("UPDATE persons SET name = ? WHERE id = ?").run(n.name, n.personId);
      }
      for (const c of inv.removeCannot) {
        db.prepare("DELETE FROM cannot_links WHERE face_id = ? AND person_id = ?")
          .run(c.faceId, c.personId);
      }
      for (const f of inv.notFace.toReversed()) {
        db.prepare("UPDATE faces SET not_face = ? WHERE id = ?").run(f.value ? 1 : 0, f.faceId);
      }
      db.prepare("UPDATE decisions SET undone = 1 WHERE id = ?").run(r.id);
      return { ...decisionOf(r), undone: true };
    }));
  }

  /** {@inheritDoc LibraryStore.decisions} */
  decisions(): Promise<Decision[]> {
    return Promise.resolve(
      this.#all("SELECT id, at, kind, summary, undone FROM decisions ORDER BY id").map(decisionOf),
    );
  }

  /** {@inheritDoc LibraryStore.outputs} */
  outputs(out: string): Promise<OutputFile[]> {
    return Promise.resolve(
      this.#all("SELECT path, size, mtime FROM outputs WHERE out = ? ORDER BY path", out).map((
        r,
      ) => ({ path: r.path as string, size: r.size as number, mtime: r.mtime as number })),
    );
  }

  /** {@inheritDoc LibraryStore.putOutputs} */
  putOutputs(out: string, written: OutputFile[], removed: string[]): Promise<void> {
    const put = this.#db.prepare(
      "INSERT OR REPLACE INTO outputs(out, path, size, mtime) VALUES (?, ?, ?, ?)",
    );
    const del = this.#db.prepare("DELETE FROM outputs WHERE out = ? AND path = ?");
    this.#tx(() => {
      for (const p of removed) del.run(out, p);
      for (const w of written) put.run(out, w.path, w.size, w.mtime);
    });
    return Promise.resolve();
  }

  /** {@inheritDoc LibraryStore.dump} */
  async *dump(): AsyncIterable<TableRows> {
    for (const table of TABLES) {
      const where = table === "meta" ? "WHERE key <> 'lock'" : "";
      let rows: Row[] = [];
      for (
        const r of this.#db.prepare(`SELECT * FROM ${table} ${where} ORDER BY rowid`).iterate()
      ) {
        rows.push(r as Row);
        if (rows.length === 2000) {
          yield { table, rows: rows as TableRows["rows"] };
          rows = [];
        }
      }
      if (rows.length) yield { table, rows: rows as TableRows["rows"] };
    }
  }

  /** {@inheritDoc LibraryStore.load} */
  async load(source: AsyncIterable<TableRows>): Promise<void> {
    const db = this.#db;
    db.exec("BEGIN IMMEDIATE");
    try {
      const n = (db.prepare("SELECT count(*) AS n FROM photos").get() as { n: number }).n;
      if (n > 0) throw new InputError(this.location, "the library to copy into is not empty");
      const copies: [number, number][] = [];
      for await (const { table, rows } of source) {
        for (const r of rows) {
          if (table === "meta" && (r.key === "lock" || r.key === "schema_version")) continue;
          const row = { ...r };
          if (table === "photos" && row.duplicate_of !== null) {
            copies.push([row.id as number, row.duplicate_of as number]);
            row.duplicate_of = null; // set below, once every photo is there
          }
          const cols = Object.keys(row);
          db.prepare(
            `INSERT OR REPLACE INTO ${table}(${cols.join(", ")}) VALUES (${
              cols.map(() => "?").join(", ")
            })`,
          ).run(...(cols.map((c) => row[c]) as SQLInputValue[]));
        }
      }
      const dup = db.prepare("UPDATE photos SET duplicate_of = ? WHERE id = ?");
      for (const [id, of] of copies) dup.run(of, id);
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  }

  /** {@inheritDoc LibraryStore.close} */
  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}
