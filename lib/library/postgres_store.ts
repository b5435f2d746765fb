/**
 * The library in a PostgreSQL database (`postgres://…`), for several machines sharing the
 * work: the same tables and schema version as the SQLite file (vectors, neighbour lists and
 * chips as bytes; no extension), every write in one transaction, and the writer lock a
 * session-level advisory lock, so that a process that dies loses it with its connection.
 * Workers store photos without the lock (their writes are per photo and idempotent); the
 * clustering step and the decisions take it as on SQLite.
 *
 * @module
 */

// deno-lint-ignore no-import-prefix -- a full specifier, so that mod.ts works imported by URL
import postgres from "npm:postgres@3.4.9";
import { safeUrl, unreachable } from "./pg_url.ts";
import { bytes, f32, i32, now } from "./cells.ts";
import { InputError, LibraryBusyError } from "../errors.ts";
import { SCHEMA_VERSION } from "./sqlite_store.ts";
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

/** The columns that are booleans here (0/1 in SQLite and in a dump). */
const BOOLEAN_COLUMNS = ["not_face", "pinned", "hard", "undone"];

/** The advisory lock key of the writer lock (one library per database). */
const WRITER_LOCK = 0x46434c31; // "FCL1"
/** The advisory lock key taken while the schema is created or migrated. */
const MIGRATE_LOCK = 0x46434d31;

/** Migrations: entry `v` takes a version-`v` database to version `v + 1`. */
const MIGRATIONS: string[] = [
  `CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE photos(id SERIAL PRIMARY KEY, path TEXT UNIQUE NOT NULL,
    size DOUBLE PRECISION NOT NULL, mtime DOUBLE PRECISION NOT NULL, sha256 TEXT NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL, status TEXT NOT NULL, error TEXT,
    duplicate_of INTEGER REFERENCES photos(id) ON DELETE CASCADE);
  CREATE INDEX photos_sha256 ON photos(sha256);
  CREATE TABLE faces(id SERIAL PRIMARY KEY,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    box TEXT NOT NULL, landmarks TEXT NOT NULL, points TEXT NOT NULL, score REAL NOT NULL,
    source TEXT NOT NULL, quality REAL NOT NULL, norm REAL, not_face BOOLEAN NOT NULL DEFAULT FALSE,
    chip BYTEA);
  CREATE INDEX faces_photo ON faces(photo_id);
  CREATE TABLE vectors(face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    model TEXT NOT NULL, vector BYTEA NOT NULL, PRIMARY KEY(face_id, model));
  CREATE TABLE neighbours(face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
    ids BYTEA NOT NULL, sims BYTEA NOT NULL);
  CREATE TABLE persons(id SERIAL PRIMARY KEY, name TEXT, created TEXT NOT NULL, centroid BYTEA);
  CREATE TABLE assignments(face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
    person_id INTEGER REFERENCES persons(id), pinned BOOLEAN NOT NULL DEFAULT FALSE,
    similarity REAL NOT NULL DEFAULT 0);
  CREATE INDEX assignments_person ON assignments(person_id);
  CREATE TABLE cannot_links(face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES persons(id), PRIMARY KEY(face_id, person_id));
  CREATE TABLE decisions(id SERIAL PRIMARY KEY, at TEXT NOT NULL,
    kind TEXT NOT NULL, summary TEXT NOT NULL, payload TEXT NOT NULL, inverse TEXT NOT NULL,
    undone BOOLEAN NOT NULL DEFAULT FALSE);
  CREATE TABLE outputs(out TEXT NOT NULL, path TEXT NOT NULL, size DOUBLE PRECISION NOT NULL,
    mtime DOUBLE PRECISION NOT NULL, PRIMARY KEY(out, path));`,
  // 1 → 2: faces kept out of people as hard to recognise
  `ALTER TABLE assignments ADD COLUMN hard BOOLEAN NOT NULL DEFAULT FALSE;`,
];

type Sql = postgres.Sql;
type Tx = postgres.TransactionSql;
// deno-lint-ignore no-explicit-any
type Row = Record<string, any>;

const FACE_ROW = `f.id, f.photo_id, f.box, f.points, f.score, f.source, f.quality, f.norm,
  f.not_face, ph.path, a.face_id AS a_face, a.person_id, a.pinned, a.similarity, a.hard`;
const FACE_FROM = `FROM faces f JOIN photos ph ON ph.id = f.photo_id
  LEFT JOIN assignments a ON a.face_id = f.id`;

function storedFace(r: Row): StoredFace {
  return {
    id: r.id,
    photoId: r.photo_id,
    box: JSON.parse(r.box),
    points: JSON.parse(r.points),
    score: r.score,
    source: r.source,
    quality: r.quality,
    norm: r.norm ?? NaN,
    notFace: r.not_face,
  };
}

function faceRow(r: Row): FaceRow {
  return {
    face: storedFace(r),
    path: r.path,
    assignment: r.a_face === null ? null : {
      faceId: r.id,
      personId: r.person_id,
      pinned: r.pinned,
      similarity: r.similarity,
      hard: r.hard,
    },
  };
}

function photoOf(r: Row): StoredPhoto {
  return {
    id: r.id,
    path: r.path,
    size: r.size,
    mtime: r.mtime,
    sha256: r.sha256,
    width: r.width,
    height: r.height,
    status: r.status,
    error: r.error,
    duplicateOf: r.duplicate_of,
  };
}

function decisionOf(r: Row): Decision {
  return { id: r.id, at: r.at, kind: r.kind, summary: r.summary, undone: r.undone };
}

/** The inverse of an edit, as logged. */
interface Inverse {
  assign: { faceId: number; personId: number | null; pinned: boolean; existed: boolean }[];
  names: { personId: number; name: string | null }[];
  removeCannot: CannotLink[];
  notFace: { faceId: number; value: boolean }[];
}

/**
 * postgres.js 3.4.9 under Deno: when the server goes away while a connection has bytes
 * queued, the write it scheduled with `setImmediate` still runs after the socket was closed
 * and throws `Cannot read properties of null (reading 'write')` outside any query (the
 * queries themselves fail with CONNECTION_CLOSED as they should). That one error is kept
 * from ending the process, so that the caller's own handling of the lost database runs.
 */
function ignoreClosedSocketWrites(): void {
  if (ignoring) return;
  ignoring = true;
  globalThis.addEventListener("error", (ev) => {
    const e = ev.error as Error | undefined;
    if (
      e instanceof TypeError && e.message.includes("reading 'write'") &&
      /postgres\/3\.4\.9\/src\/connection\.js/.test(e.stack ?? "")
    ) ev.preventDefault();
  });
}
let ignoring = false;

export { isPostgresUrl, safeUrl, unreachable } from "./pg_url.ts";

/**
 * A {@link LibraryStore} in a PostgreSQL database.
 *
 * @example
 * ```ts ignore
 * import { PgStore } from "./postgres_store.ts";
 * const store = await PgStore.open("postgres://me@127.0.0.1:5432/photos");
 * console.log((await store.photos()).length);
 * await store.close();
 * ```
 */
export class PgStore implements LibraryStore {
  /** The address (without its password). */
  readonly location: string;
  #sql: Sql;
  /** The connection holding the writer lock, while this store holds it. */
  #lockConn: postgres.ReservedSql | null = null;

  private constructor(location: string, sql: Sql) {
    this.location = location;
    this.#sql = sql;
  }

  /**
   * Opens (creating and migrating) the library in a database.
   *
   * @param url `postgres://user@host:port/database`.
   * @param options `connections`: the most connections this process opens (default 4).
   * @returns The store.
   * @throws {InputError} When the database cannot be reached, holds other tables, or is
   *   from a newer facecluster.
   */
  static async open(url: string, options: { connections?: number } = {}): Promise<PgStore> {
    const location = safeUrl(url);
    ignoreClosedSocketWrites();
    const sql = postgres(url, {
      max: options.connections ?? 4,
      onnotice: () => {},
      connect_timeout: 10,
      connection: { application_name: `facecluster ${Deno.pid}` },
    });
    const store = new PgStore(location, sql);
    try {
      await store.#migrate();
    } catch (e) {
      await sql.end({ timeout: 1 }).catch(() => {});
      if (e instanceof InputError) throw e;
      const why = unreachable(e);
      throw new InputError(
        location,
        why
          ? `cannot reach the library's database: ${why}`
          : `cannot open the library: ${(e as Error).message}`,
      );
    }
    return store;
  }

  async #migrate(): Promise<void> {
    await this.#sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATE_LOCK})`;
      const [{ exists }] = await tx`SELECT to_regclass('public.meta') IS NOT NULL AS exists`;
      let version = 0;
      if (exists) {
        const [r] = await tx`SELECT value FROM meta WHERE key = 'schema_version'`;
        version = r ? Number(r.value) : 0;
      } else {
        const [{ n }] = await tx`SELECT count(*)::int AS n FROM pg_tables
          WHERE schemaname = 'public'`;
        if (n > 0) throw new InputError(this.location, "not a facecluster library");
      }
      if (version > SCHEMA_VERSION) {
        throw new InputError(
          this.location,
          `library schema version ${version} is newer than this facecluster's (${SCHEMA_VERSION})`,
        );
      }
      for (let v = version; v < SCHEMA_VERSION; v++) {
        await tx.unsafe(MIGRATIONS[v]);
        await tx`INSERT INTO meta(key, value) VALUES ('schema_version', ${String(v + 1)})
          ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`;
      }
    });
  }

  /** The schema version of the database (for tests and checks). */
  async schemaVersion(): Promise<number> {
    const [r] = await this.#sql`SELECT value FROM meta WHERE key = 'schema_version'`;
    return Number(r.value);
  }

  /** Runs `fn` in one transaction. */
  #tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#sql.begin(fn) as Promise<T>;
  }

  /** {@inheritDoc LibraryStore.setting} */
  async setting(key: string): Promise<string | null> {
    const [r] = await this.#sql`SELECT value FROM meta WHERE key = ${key}`;
    return r?.value ?? null;
  }

  /** {@inheritDoc LibraryStore.setSetting} */
  async setSetting(key: string, value: string): Promise<void> {
    await this.#sql`INSERT INTO meta(key, value) VALUES (${key}, ${value})
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`;
  }

  async #model(q: Sql | Tx = this.#sql): Promise<string> {
    const [r] = await q`SELECT value FROM meta WHERE key = 'model_key'`;
    return r?.value ?? "";
  }

  async #holderInfo(q: Sql | Tx): Promise<LockHolder> {
    const [r] = await q`SELECT value FROM meta WHERE key = 'lock'`;
    return r ? JSON.parse(r.value) : { pid: 0, at: "unknown" };
  }

  /** {@inheritDoc LibraryStore.lock} */
  async lock(owner: number): Promise<void> {
    if (this.#lockConn) return;
    const conn = await this.#sql.reserve();
    const [{ got }] = await conn`SELECT pg_try_advisory_lock(${WRITER_LOCK}) AS got`;
    if (!got) {
      conn.release();
      const held = await this.#holderInfo(this.#sql);
      throw new LibraryBusyError(this.location, held.pid, held.at);
    }
    this.#lockConn = conn;
    await this.setSetting(
      "lock",
      JSON.stringify({ pid: owner, host: Deno.hostname(), at: now() }),
    );
  }

  /** {@inheritDoc LibraryStore.unlock} */
  async unlock(_owner: number): Promise<void> {
    const conn = this.#lockConn;
    if (!conn) return;
    this.#lockConn = null;
    try {
      await this.#sql`DELETE FROM meta WHERE key = 'lock'`;
      await conn`SELECT pg_advisory_unlock(${WRITER_LOCK})`;
    } finally {
      conn.release();
    }
  }

  /** {@inheritDoc LibraryStore.holder} */
  async holder(): Promise<LockHolder | null> {
    const [{ held }] = await this.#sql`SELECT EXISTS(SELECT 1 FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = ${WRITER_LOCK}
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS held`;
    return held ? await this.#holderInfo(this.#sql) : null;
  }

  /** Throws when another session holds the writer lock (inside a transaction). */
  async #refuseIfHeld(tx: Tx): Promise<void> {
    if (this.#lockConn) return; // this store holds it
    const [{ got }] = await tx`SELECT pg_try_advisory_xact_lock_shared(${WRITER_LOCK}) AS got`;
    if (!got) {
      const held = await this.#holderInfo(tx);
      throw new LibraryBusyError(this.location, held.pid, held.at);
    }
  }

  /** {@inheritDoc LibraryStore.snapshot} */
  snapshot(): Promise<LibrarySnapshot> {
    return this.#sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", async (tx) => ({
      photos: await this.#photos(tx),
      faces: await this.#faces(tx),
      assignments: await this.#assignments(tx),
      persons: await this.#persons(tx),
    })) as Promise<LibrarySnapshot>;
  }

  /** {@inheritDoc LibraryStore.photos} */
  photos(): Promise<StoredPhoto[]> {
    return this.#photos(this.#sql);
  }

  async #photos(q: Sql | Tx): Promise<StoredPhoto[]> {
    return (await q`SELECT * FROM photos ORDER BY id`).map(photoOf);
  }

  /** {@inheritDoc LibraryStore.findPhotos} */
  async findPhotos(paths: string[], shas: string[]): Promise<StoredPhoto[]> {
    return (await this.#sql`SELECT * FROM photos WHERE path = ANY(${paths}::text[])
      OR sha256 = ANY(${shas}::text[]) ORDER BY id`).map(photoOf);
  }

  /** {@inheritDoc LibraryStore.putPhotos} */
  async putPhotos(items: { photo: Omit<StoredPhoto, "id">; faces: NewFace[] }[]): Promise<void> {
    if (items.length === 0) return;
    await this.#tx(async (tx) => {
      const model = await this.#model(tx);
      const paths = items.map((i) => i.photo.path);
      await tx`DELETE FROM photos WHERE path = ANY(${paths}::text[])`;
      const rows = items.map(({ photo: p }) => ({
        path: p.path,
        size: p.size,
        mtime: p.mtime,
        sha256: p.sha256,
        width: p.width,
        height: p.height,
        status: p.status,
        error: p.error,
        duplicate_of: p.duplicateOf,
      }));
      const ids = await tx`INSERT INTO photos ${tx(rows)} RETURNING id, path`;
      const idOf = new Map(ids.map((r) => [r.path as string, r.id as number]));
      const faces = items.flatMap(({ photo, faces }) =>
        faces.map((f) => ({
          photo_id: idOf.get(photo.path)!,
          box: JSON.stringify(f.box),
          landmarks: "[]", // as in the SQLite store: the five points are what is read back
          points: JSON.stringify(f.points),
          score: f.score,
          source: f.source,
          quality: f.quality,
          norm: Number.isFinite(f.norm) ? f.norm : null,
          chip: f.chip,
        }))
      );
      if (faces.length === 0) return;
      const vectors = items.flatMap(({ faces }) => faces.map((f) => bytes(f.vector)));
      // a few thousand parameters a statement at most
      for (let s = 0; s < faces.length; s += 500) {
        const part = faces.slice(s, s + 500);
        const fids = await tx`INSERT INTO faces ${tx(part)} RETURNING id`;
        await tx`INSERT INTO vectors ${
          tx(fids.map((r, j) => ({ face_id: r.id, model, vector: vectors[s + j] })))
        }`;
      }
    });
  }

  /** {@inheritDoc LibraryStore.movePhoto} */
  async movePhoto(id: number, path: string, size: number, mtime: number): Promise<void> {
    await this.#sql`UPDATE photos SET path = ${path}, size = ${size}, mtime = ${mtime}
      WHERE id = ${id}`;
  }

  /** {@inheritDoc LibraryStore.removePhotos} */
  async removePhotos(ids: number[]): Promise<void> {
    await this.#sql`DELETE FROM photos WHERE id = ANY(${ids}::int[])`;
  }

  /** {@inheritDoc LibraryStore.faces} */
  faces(): Promise<StoredFace[]> {
    return this.#faces(this.#sql);
  }

  async #faces(q: Sql | Tx): Promise<StoredFace[]> {
    return (await q`SELECT id, photo_id, box, points, score, source, quality, norm, not_face
      FROM faces ORDER BY id`).map(storedFace);
  }

  /** {@inheritDoc LibraryStore.personCounts} */
  async personCounts(): Promise<PersonCount[]> {
    return (await this.#sql`SELECT a.person_id AS id, p.name AS name, COUNT(*)::int AS faces,
        SUM(a.pinned::int)::int AS pinned
      FROM assignments a LEFT JOIN persons p ON p.id = a.person_id
      WHERE a.person_id IS NOT NULL GROUP BY a.person_id, p.name`).map((r) => ({
      id: r.id,
      name: r.name,
      faces: r.faces,
      pinned: r.pinned,
    }));
  }

  /** {@inheritDoc LibraryStore.personDetail} */
  async personDetail(personId: number): Promise<{ photos: number; representative: number }> {
    const [photos] = await this.#sql`SELECT COUNT(DISTINCT f.photo_id)::int AS n
      FROM assignments a JOIN faces f ON f.id = a.face_id WHERE a.person_id = ${personId}`;
    const [rep] = await this.#sql`SELECT face_id FROM assignments WHERE person_id = ${personId}
      ORDER BY similarity DESC, face_id LIMIT 1`;
    return { photos: photos.n, representative: rep?.face_id ?? -1 };
  }

  /** {@inheritDoc LibraryStore.facePage} */
  facePage(which: FacePageFilter, offset: number, limit: number): Promise<FacePage> {
    let where: string, order: string;
    const params: (number | string)[] = [];
    if ("person" in which) {
      params.push(which.person);
      where = "a.person_id = $1";
      order = "a.similarity, f.id";
    } else {
      params.push(which.gate);
      const notFace = "(f.not_face OR f.quality < $1)";
      where = "a.person_id IS NULL AND " +
        (which.outside === "notfaces"
          ? notFace
          : `NOT ${notFace} AND COALESCE(a.hard, FALSE) = ${which.outside === "hard"}`);
      order = "f.id";
    }
    return this.#sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", async (tx) => {
      const [{ n }] = await tx.unsafe(
        `SELECT COUNT(*)::int AS n ${FACE_FROM} WHERE ${where}`,
        params,
      );
      const rows = await tx.unsafe(
        `SELECT ${FACE_ROW} ${FACE_FROM} WHERE ${where} ORDER BY ${order} LIMIT $2 OFFSET $3`,
        [...params, limit, offset],
      );
      return { total: n, faces: rows.map(faceRow) };
    }) as Promise<FacePage>;
  }

  /** {@inheritDoc LibraryStore.facesById} */
  async facesById(ids: number[]): Promise<FaceRow[]> {
    const rows = await this.#sql.unsafe(
      `SELECT ${FACE_ROW} ${FACE_FROM} WHERE f.id = ANY($1::int[])`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id as number, r]));
    return ids.flatMap((id) => (byId.has(id) ? [faceRow(byId.get(id)!)] : []));
  }

  /** {@inheritDoc LibraryStore.vectors} */
  async vectors(ids: number[], dims: number): Promise<Float32Array> {
    const out = new Float32Array(ids.length * dims);
    const row = new Map(ids.map((id, i) => [id, i]));
    const got = new Uint8Array(ids.length);
    const model = await this.#model();
    const place = (r: Row) => {
      const i = row.get(r.face_id);
      if (i === undefined) return;
      out.set(f32(r.vector).subarray(0, dims), i * dims);
      got[i] = 1;
    };
    if (ids.length <= 20_000) {
      (await this.#sql`SELECT face_id, vector FROM vectors WHERE model = ${model}
        AND face_id = ANY(${ids}::int[])`).forEach(place);
    } else {
      // the stages want most of them: one pass over the model's vectors, in pages
      await this.#sql`SELECT face_id, vector FROM vectors WHERE model = ${model}`
        .cursor(5000, (rows) => rows.forEach(place));
    }
    const missing = got.indexOf(0);
    if (missing >= 0) throw new Error(`${this.location}: face ${ids[missing]} has no vector`);
    return out;
  }

  /** {@inheritDoc LibraryStore.chip} */
  async chip(faceId: number): Promise<Uint8Array | null> {
    const [r] = await this.#sql`SELECT chip FROM faces WHERE id = ${faceId}`;
    return r?.chip ? new Uint8Array(r.chip) : null;
  }

  /** {@inheritDoc LibraryStore.neighbours} */
  async neighbours(): Promise<NeighbourList[]> {
    const out: NeighbourList[] = [];
    await this.#sql`SELECT * FROM neighbours ORDER BY face_id`.cursor(5000, (rows) => {
      for (const r of rows) out.push({ faceId: r.face_id, ids: i32(r.ids), sims: f32(r.sims) });
    });
    return out;
  }

  /** {@inheritDoc LibraryStore.putNeighbours} */
  async putNeighbours(lists: NeighbourList[], remove: number[]): Promise<void> {
    await this.#tx(async (tx) => {
      if (remove.length) await tx`DELETE FROM neighbours WHERE face_id = ANY(${remove}::int[])`;
      for (let s = 0; s < lists.length; s += 2000) {
        const rows = lists.slice(s, s + 2000).map((l) => ({
          face_id: l.faceId,
          ids: bytes(l.ids),
          sims: bytes(l.sims),
        }));
        await tx`INSERT INTO neighbours ${tx(rows)} ON CONFLICT (face_id)
          DO UPDATE SET ids = EXCLUDED.ids, sims = EXCLUDED.sims`;
      }
    });
  }

  /** {@inheritDoc LibraryStore.persons} */
  persons(): Promise<StoredPerson[]> {
    return this.#persons(this.#sql);
  }

  async #persons(q: Sql | Tx): Promise<StoredPerson[]> {
    return (await q`SELECT * FROM persons ORDER BY id`).map((r) => ({
      id: r.id,
      name: r.name,
      created: r.created,
      centroid: r.centroid ? f32(r.centroid) : null,
    }));
  }

  /** {@inheritDoc LibraryStore.assignments} */
  assignments(): Promise<Assignment[]> {
    return this.#assignments(this.#sql);
  }

  async #assignments(q: Sql | Tx): Promise<Assignment[]> {
    return (await q`SELECT * FROM assignments ORDER BY face_id`).map((r) => ({
      faceId: r.face_id,
      personId: r.person_id,
      pinned: r.pinned,
      similarity: r.similarity,
      hard: r.hard,
    }));
  }

  /** {@inheritDoc LibraryStore.cannotLinks} */
  async cannotLinks(): Promise<CannotLink[]> {
    return (await this.#sql`SELECT * FROM cannot_links ORDER BY face_id, person_id`).map((r) => ({
      faceId: r.face_id,
      personId: r.person_id,
    }));
  }

  async #createPersons(tx: Tx, names: (string | null)[]): Promise<number[]> {
    if (names.length === 0) return [];
    const at = now();
    const rows = await tx`INSERT INTO persons ${tx(names.map((name) => ({ name, created: at })))}
      RETURNING id`;
    return rows.map((r) => r.id as number);
  }

  /** {@inheritDoc LibraryStore.saveClustering} */
  saveClustering(c: Clustering): Promise<number[]> {
    return this.#tx(async (tx) => {
      const created = await this.#createPersons(tx, Array(c.create).fill(null));
      const id = (p: number | null) => (p !== null && p < 0 ? created[-p - 1] : p);
      await tx`DELETE FROM assignments WHERE NOT pinned`;
      for (let s = 0; s < c.assign.length; s += 5000) {
        const rows = c.assign.slice(s, s + 5000).map((a) => ({
          face_id: a.faceId,
          person_id: id(a.personId),
          pinned: false,
          similarity: a.similarity,
          hard: a.hard ?? false,
        }));
        await tx`INSERT INTO assignments ${tx(rows)} ON CONFLICT (face_id) DO UPDATE SET
          person_id = EXCLUDED.person_id, pinned = FALSE, similarity = EXCLUDED.similarity,
          hard = EXCLUDED.hard`;
      }
      if (c.pinnedSimilarity.length) {
        await tx`UPDATE assignments a SET similarity = v.s FROM
          (SELECT unnest(${c.pinnedSimilarity.map((p) => p.faceId)}::int[]) AS f,
                  unnest(${c.pinnedSimilarity.map((p) => p.similarity)}::real[]) AS s) v
          WHERE a.face_id = v.f`;
      }
      for (const p of c.centroids) {
        await tx`UPDATE persons SET centroid = ${bytes(p.centroid)} WHERE id = ${id(p.personId)}`;
      }
      return created;
    });
  }

  /** {@inheritDoc LibraryStore.edit} */
  edit(kind: string, summary: string, change: Edit): Promise<number> {
    return this.#tx(async (tx) => {
      await this.#refuseIfHeld(tx);
      const created = await this.#createPersons(tx, change.create ?? []);
      const pid = (p: number | null) => (p !== null && p < 0 ? created[-p - 1] : p);
      const inv: Inverse = { assign: [], names: [], removeCannot: [], notFace: [] };
      for (const a of change.assign ?? []) {
        const [before] = await tx`SELECT person_id, pinned FROM assignments
          WHERE face_id = ${a.faceId}`;
        inv.assign.push({
          faceId: a.faceId,
          personId: before?.person_id ?? null,
          pinned: before?.pinned ?? false,
          existed: before !== undefined,
        });
        await tx`INSERT INTO assignments(face_id, person_id, pinned, similarity)
          VALUES (${a.faceId}, ${pid(a.personId)}, ${a.pinned}, 0)
          ON CONFLICT (face_id) DO UPDATE SET person_id = EXCLUDED.person_id,
            pinned = EXCLUDED.pinned, similarity = 0, hard = FALSE`;
      }
      for (const n of change.names ?? []) {
        const [before] = await tx`SELECT name FROM persons WHERE id = ${pid(n.personId)}`;
        if (!before) throw new InputError(`person ${n.personId}`, "no such person");
        inv.names.push({ personId: pid(n.personId)!, name: before.name });
        await tx`UPDATE persons SET name = ${n.name} WHERE id = ${pid(n.personId)}`;
      }
      for (const c of change.addCannot ?? []) {
        const p = pid(c.personId)!;
        const r = await tx`INSERT INTO cannot_links(face_id, person_id) VALUES (${c.faceId}, ${p})
          ON CONFLICT DO NOTHING`;
        if (r.count > 0) inv.removeCannot.push({ faceId: c.faceId, personId: p });
      }
      for (const f of change.notFace ?? []) {
        const [before] = await tx`SELECT not_face FROM faces WHERE id = ${f.faceId}`;
        if (!before) throw new InputError(`face ${f.faceId}`, "no such face");
        inv.notFace.push({ faceId: f.faceId, value: before.not_face });
        await tx`UPDATE faces SET not_face = ${f.value} WHERE id = ${f.faceId}`;
      }
      const [{ id }] = await tx`INSERT INTO decisions(at, kind, summary, payload, inverse)
        VALUES (${now()}, ${kind}, ${summary}, ${JSON.stringify({ ...change, created })},
          ${JSON.stringify(inv)}) RETURNING id`;
      return id as number;
    });
  }

  /** {@inheritDoc LibraryStore.undo} */
  undo(): Promise<Decision | null> {
    return this.#tx(async (tx) => {
      await this.#refuseIfHeld(tx);
      const [r] = await tx`SELECT * FROM decisions WHERE NOT undone ORDER BY id DESC LIMIT 1`;
      if (!r) return null;
      const inv = JSON.parse(r.inverse) as Inverse;
      for (const a of inv.assign.toReversed()) {
        const [exists] = await tx`SELECT 1 FROM faces WHERE id = ${a.faceId}`;
        if (!exists) continue; // its photo is gone
        if (!a.existed) await tx`DELETE FROM assignments WHERE face_id = ${a.faceId}`;
        else {
          await tx`INSERT INTO assignments(face_id, person_id, pinned, similarity)
            VALUES (${a.faceId}, ${a.personId}, ${a.pinned}, 0)
            ON CONFLICT (face_id) DO UPDATE SET person_id = EXCLUDED.person_id,
              pinned = EXCLUDED.pinned, similarity = 0, hard = FALSE`;
        }
      }
      for (const n of inv.names.toReversed()) {
        await tx`UPDATE persons SET name = ${n.name} WHERE id = ${n.personId}`;
      }
      for (const c of inv.removeCannot) {
        await tx`DELETE FROM cannot_links WHERE face_id = ${c.faceId}
          AND person_id = ${c.personId}`;
      }
      for (const f of inv.notFace.toReversed()) {
        await tx`UPDATE faces SET not_face = ${f.value} WHERE id = ${f.faceId}`;
      }
      await tx`UPDATE decisions SET undone = TRUE WHERE id = ${r.id}`;
      return { ...decisionOf(r), undone: true };
    });
  }

  /** {@inheritDoc LibraryStore.decisions} */
  async decisions(): Promise<Decision[]> {
    return (await this.#sql`SELECT id, at, kind, summary, undone FROM decisions ORDER BY id`)
      .map(decisionOf);
  }

  /** {@inheritDoc LibraryStore.outputs} */
  async outputs(out: string): Promise<OutputFile[]> {
    return (await this.#sql`SELECT path, size, mtime FROM outputs WHERE out = ${out}
      ORDER BY path`).map((r) => ({ path: r.path, size: r.size, mtime: r.mtime }));
  }

  /** {@inheritDoc LibraryStore.putOutputs} */
  async putOutputs(out: string, written: OutputFile[], removed: string[]): Promise<void> {
    await this.#tx(async (tx) => {
      if (removed.length) {
        await tx`DELETE FROM outputs WHERE out = ${out} AND path = ANY(${removed}::text[])`;
      }
      for (let s = 0; s < written.length; s += 5000) {
        const rows = written.slice(s, s + 5000).map((w) => ({ out, ...w }));
        await tx`INSERT INTO outputs ${tx(rows)} ON CONFLICT (out, path)
          DO UPDATE SET size = EXCLUDED.size, mtime = EXCLUDED.mtime`;
      }
    });
  }

  /** {@inheritDoc LibraryStore.dump} */
  async *dump(): AsyncIterable<TableRows> {
    for (const table of TABLES) {
      const where = table === "meta"
        ? this.#sql`WHERE key NOT IN ('lock', 'schema_version')`
        : this.#sql``;
      const order = table === "meta" ? this.#sql`` : this.#sql`ORDER BY 1, 2`;
      for await (
        const rows of this.#sql`SELECT * FROM ${this.#sql(table)} ${where} ${order}`.cursor(2000)
      ) {
        yield {
          table,
          rows: rows.map((r) => {
            const o: TableRows["rows"][number] = {};
            for (const [k, v] of Object.entries(r)) {
              o[k] = typeof v === "boolean"
                ? (v ? 1 : 0)
                : v instanceof Uint8Array
                ? new Uint8Array(v)
                : v;
            }
            return o;
          }),
        };
      }
    }
  }

  /** {@inheritDoc LibraryStore.load} */
  async load(source: AsyncIterable<TableRows>): Promise<void> {
    await this.#tx(async (tx) => {
      const [{ n }] = await tx`SELECT count(*)::int AS n FROM photos`;
      if (n > 0) throw new InputError(this.location, "the library to copy into is not empty");
      const copies: [number, number][] = [];
      for await (const { table, rows } of source) {
        const put = rows.filter((r) =>
          table !== "meta" || (r.key !== "lock" && r.key !== "schema_version")
        ).map((r) => {
          const row: Record<string, unknown> = { ...r };
          for (const b of BOOLEAN_COLUMNS) if (b in row) row[b] = row[b] === 1 || row[b] === true;
          if (table === "photos" && row.duplicate_of !== null) {
            copies.push([row.id as number, row.duplicate_of as number]);
            row.duplicate_of = null; // set below, once every photo is there
          }
          return row;
        });
        if (put.length === 0) continue;
        if (table === "meta") {
          await tx`INSERT INTO meta ${tx(put as Row[])} ON CONFLICT (key)
            DO UPDATE SET value = EXCLUDED.value`;
        } else await tx`INSERT INTO ${tx(table)} ${tx(put as Row[])}`;
      }
      if (copies.length) {
        await tx`UPDATE photos p SET duplicate_of = v.o FROM
          (SELECT unnest(${copies.map((c) => c[0])}::int[]) AS i,
                  unnest(${copies.map((c) => c[1])}::int[]) AS o) v WHERE p.id = v.i`;
      }
      // later ids continue after the copied ones
      for (const t of ["photos", "faces", "persons", "decisions"]) {
        await tx.unsafe(
          `SELECT setval(pg_get_serial_sequence('${t}', 'id'), COALESCE((SELECT max(id) FROM ${t}), 0) + 1, false)`,
        );
      }
    });
  }

  /** {@inheritDoc LibraryStore.close} */
  async close(): Promise<void> {
    if (this.#lockConn) await this.unlock(Deno.pid).catch(() => {});
    await this.#sql.end({ timeout: 5 });
  }
}
