/**
 * The review server: a local web page over a library, to see, name, merge and correct
 * people. It listens on 127.0.0.1 only (another address must be asked for), every request
 * needs the random token made at start, Host and Origin are checked (DNS rebinding, CSRF),
 * images are served by the ids the library knows (never a path from the request), and the
 * decisions go through one queue so that two tabs never lose one.
 *
 * @module
 */

import { InputError, LibraryBusyError } from "../errors.ts";
import { loadSharp } from "../image/decode.ts";
import { chipType } from "../image/encode_chip.ts";
import type { FaceView, Library, RunSummary } from "../library/library.ts";
import type { PersonCount } from "../library/store.ts";
import { REVIEW_PAGE } from "./page.ts";
import { DEFAULT_MIN_QUALITY } from "../library/settings.ts";

/** Options of {@link startReview}. */
export interface ReviewOptions {
  /** Address to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** Listen on an address other than the loopback one. @default false */
  allowRemote?: boolean;
  /** Port (0: any free one). @default 0 */
  port?: number;
  /** The token (tests); a random one by default. */
  token?: string;
  /** The input folder (photos are read from it by their stored paths). @default the library's */
  input?: string;
  /** The model cache, for the re-cluster's new photos. @default modelCacheDir() */
  cacheDir?: string;
  /**
   * Applies the decisions: re-clusters and updates the output folder, and says what changed.
   * @default the library's own re-cluster ({@link Library.recluster}: its settings, its folders)
   */
  recluster?: () => Promise<string>;
}

/** A running review server. */
export interface ReviewServer {
  /** The address to open (with the token). */
  url: string;
  /** The port. */
  port: number;
  /** The token every request must carry. */
  token: string;
  /** Stops it. */
  close(): Promise<void>;
}

/** Faces or people per page of the lists. */
const PAGE = 60;

const json = (data: unknown, status = 200): Response =>
  new Response(JSON.stringify(data), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
const problem = (status: number, message: string): Response => json({ error: message }, status);

/** Constant-time string comparison. */
function sameText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  let d = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) d |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return d === 0;
}

/** A request body field that must be a positive integer. */
function id(v: unknown, what: string): number {
  if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  throw new InputError(what, `expected an id, got ${JSON.stringify(v)}`);
}

function ids(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length === 0) throw new InputError(what, "expected a list of ids");
  return v.map((x) => id(x, what));
}

function personRef(v: unknown, what: string): number | string {
  if (typeof v === "string" && v.trim() !== "") return v;
  return id(v, what);
}

/** What the page lists: computed once per change of the library. */
interface Snapshot {
  /** The persons with faces and their counts (no face is read). */
  people: PersonCount[];
  centroids: Map<number, Float32Array>;
  gate: number;
  dims: number;
  /** Suggestions below the link threshold are not shown. */
  minSim: number;
}

/**
 * Starts the review server over an open library.
 *
 * @param lib The library.
 * @param options Address, input folder, the re-cluster action.
 * @returns The server, with the address to open.
 * @throws {InputError} For an address other than the loopback one without `allowRemote`.
 *
 * @example
 * ```ts ignore
 * const lib = await Library.open("photos_people/library.db");
 * const server = await startReview(lib, { input: "photos" });
 * console.log(`open ${server.url}`);
 * ```
 */
export function startReview(lib: Library, options: ReviewOptions = {}): Promise<ReviewServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  if (!["127.0.0.1", "::1", "localhost"].includes(hostname) && !options.allowRemote) {
    throw new InputError(
      hostname,
      "the review server listens on 127.0.0.1 only (another address needs --allow-remote)",
    );
  }
  const token = options.token ??
    Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16).padStart(2, "0"))
      .join("");
  const review = new Review(lib, options, hostname, token);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname, port: options.port ?? 0, onListen: () => {} },
      (req) => review.handle(req),
    );
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new InputError(
        `port ${options.port}`,
        `already in use on ${hostname}; choose another with --port (0 picks a free one)`,
      );
    }
    throw e;
  }
  review.port = server.addr.port;
  const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
  return Promise.resolve({
    url: `http://${shown}:${review.port}/?t=${token}`,
    port: review.port,
    token,
    close: async () => {
      await server.shutdown();
      await review.settled();
    },
  });
}

/** One running review: the checks every request passes, the reads, the decisions' queue. */
class Review {
  port = 0;
  #snapshot: Promise<Snapshot> | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #thumbs = new Map<string, Uint8Array>();

  constructor(
    readonly lib: Library,
    readonly options: ReviewOptions,
    readonly hostname: string,
    readonly token: string,
  ) {}

  /**
   * What every page needs, read once until a decision changes it: the persons' counts and
   * kept centroids, never the faces (pages read theirs a page at a time).
   */
  snap(): Promise<Snapshot> {
    this.#snapshot ??= (async () => {
      const lib = this.lib;
      const persons = await lib.store.persons();
      const settings = await lib.settings();
      return {
        people: await lib.store.personCounts(),
        centroids: new Map(persons.filter((p) => p.centroid).map((p) => [p.id, p.centroid!])),
        gate: settings?.minQuality ?? DEFAULT_MIN_QUALITY,
        dims: settings?.model.dims ?? 0,
        minSim: settings?.minSim ?? 0,
      };
    })();
    return this.#snapshot;
  }

  /** Decisions one at a time, in the order they came. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run.finally(() => (this.#snapshot = null));
  }

  /** Resolves when the queued decisions are done. */
  settled(): Promise<unknown> {
    return this.#queue;
  }

  #hosts(): Set<string> {
    const p = this.port;
    return new Set([`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`, `${this.hostname}:${p}`]);
  }

  /** Host, Origin and token checked, then a read (GET) or a decision (POST). */
  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (!this.#hosts().has(req.headers.get("host") ?? "")) return problem(403, "unknown Host");
    const origin = req.headers.get("origin");
    const origins = new Set([...this.#hosts()].map((h) => `http://${h}`));
    if (origin !== null && !origins.has(origin)) return problem(403, "cross-origin request");
    const given = req.method === "GET"
      ? url.searchParams.get("t") ?? ""
      : req.headers.get("x-facecluster-token") ?? "";
    if (!sameText(given, this.token)) {
      return problem(401, "a token is needed (open the printed address)");
    }
    try {
      if (req.method === "POST") {
        if (origin === null) return problem(403, "a request that changes things needs its Origin");
        if (url.pathname !== "/api/decide") return problem(404, "no such action");
        return await this.#post(req);
      }
      if (req.method !== "GET") return problem(405, "GET or POST");
      return await this.#read(url, await this.snap());
    } catch (e) {
      if (e instanceof LibraryBusyError) return problem(409, e.message);
      if (e instanceof InputError) return problem(400, e.message);
      return problem(500, (e as Error).message);
    }
  }

  async #post(req: Request): Promise<Response> {
    const text = await boundedText(req, MAX_BODY);
    if (text === null) return problem(413, `the body is over ${MAX_BODY} bytes`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text);
    } catch {
      return problem(400, "the body must be JSON");
    }
    if (typeof body !== "object" || body === null) {
      return problem(400, "the body must be an object");
    }
    return json(await this.serial(() => decide(this.lib, body, this.options)));
  }

  async #read(url: URL, s: Snapshot): Promise<Response> {
    const path = url.pathname;
    const offset = Math.max(0, Number(url.searchParams.get("offset") ?? 0) | 0);
    const limit = Math.min(500, Math.max(1, Number(url.searchParams.get("limit") ?? PAGE) | 0));
    if (path === "/") return page();
    if (path === "/api/people") {
      return json(
        await this.lib.peoplePage({
          query: url.searchParams.get("q") ?? "",
          namedLast: url.searchParams.get("order") !== "size",
          offset,
          limit,
          counts: s.people,
        }),
      );
    }
    let m = /^\/api\/person\/(\d+)$/.exec(path);
    if (m) return await this.#person(s, Number(m[1]), offset, limit);
    const lists = { "/api/alone": "alone", "/api/notfaces": "notfaces", "/api/hard": "hard" };
    const which = lists[path as keyof typeof lists] as FaceList | undefined;
    if (which) return await this.#alone(s, which, offset, limit);
    m = /^\/face\/(\d+)$/.exec(path);
    if (m) {
      if (!(await this.lib.face(Number(m[1])))) {
        return problem(404, `no face ${m[1]} in this library`);
      }
      const chip = await this.lib.store.chip(Number(m[1]));
      if (!chip) return problem(404, `face ${m[1]} has no picture`);
      return new Response(chip as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": chipType(chip), "cache-control": "private, max-age=3600" },
      });
    }
    m = /^\/photo\/(\d+)$/.exec(path);
    if (m) return await this.#photo(Number(m[1]));
    return problem(404, "not found");
  }

  /** One person's faces, least typical first, with "is this X?" for an unnamed one. */
  async #person(s: Snapshot, id: number, offset: number, limit: number): Promise<Response> {
    const count = s.people.find((p) => p.id === id);
    if (!count) return problem(404, `no person ${id} with faces in this library`);
    const person = { ...count, ...(await this.lib.store.personDetail(id)) };
    const { total, faces } = await this.lib.facePage({ person: id }, offset, limit);
    let mean = person.name === null ? s.centroids.get(id) : undefined;
    if (person.name === null && !mean) {
      // changed by a decision since the last clustering: its mean anew
      const all = await this.lib.facePage({ person: id }, 0, total);
      mean = await this.#meanOf(all.faces.map((f) => f.id), s.dims);
    }
    return json({
      person,
      total,
      faces: faces.map(faceJson),
      suggestions: mean ? suggest(s, mean, person.id) : [],
    });
  }

  /**
   * The faces alone (with the nearest named person each), the faces hard to recognise (with
   * it too), or the not-faces.
   */
  async #alone(s: Snapshot, which: FaceList, offset: number, limit: number): Promise<Response> {
    const { total, faces: page } = await this.lib.facePage(
      { outside: which, gate: s.gate },
      offset,
      limit,
    );
    const alone = which !== "notfaces";
    const vectors = alone && page.length
      ? await this.lib.store.vectors(page.map((f) => f.id), s.dims)
      : null;
    return json({
      total,
      faces: page.map((f, i) => ({
        ...faceJson(f),
        suggestions: vectors ? suggest(s, vectors.subarray(i * s.dims, (i + 1) * s.dims)) : [],
      })),
    });
  }

  /** The mean direction of faces now (a person changed by a decision has no stored one). */
  async #meanOf(ids: number[], dims: number): Promise<Float32Array> {
    const v = await this.lib.store.vectors(ids, dims);
    const mean = new Float32Array(dims);
    for (let i = 0; i < ids.length; i++) for (let j = 0; j < dims; j++) mean[j] += v[i * dims + j];
    const norm = Math.hypot(...mean) || 1;
    return mean.map((x) => x / norm);
  }

  /** A face's photo, upright and at most 800 pixels, by the face's id only. */
  async #photo(faceId: number): Promise<Response> {
    const f = await this.lib.face(faceId);
    if (!f) return problem(404, `no face ${faceId} in this library`);
    let bytes = this.#thumbs.get(f.file);
    if (!bytes) {
      const input = this.options.input ?? (await this.lib.settings())?.input;
      const data = await Deno.readFile(`${input}/${f.file}`).catch(() => null);
      if (!data) return problem(404, `the photo of face ${faceId} is not in the input any more`);
      const sharp = await loadSharp();
      bytes = sharp
        ? new Uint8Array(
          await sharp(data).rotate().resize(800, 800, { fit: "inside", withoutEnlargement: true })
            .jpeg({ quality: 85 }).toBuffer(),
        )
        : data;
      if (this.#thumbs.size > 200) this.#thumbs.delete(this.#thumbs.keys().next().value!);
      this.#thumbs.set(f.file, bytes);
    }
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": "image/jpeg", "cache-control": "private, max-age=3600" },
    });
  }
}

/** The lists of faces in no person. */
type FaceList = "alone" | "hard" | "notfaces";

/** The page itself. */
function page(): Response {
  return new Response(REVIEW_PAGE, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy":
        "default-src 'self'; img-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      "referrer-policy": "no-referrer",
    },
  });
}

/** The people, unnamed first (or by size), filtered by a name or an id. */
function faceJson(f: FaceView) {
  return {
    id: f.id,
    file: f.file,
    personId: f.personId,
    pinned: f.pinned,
    similarity: f.similarity,
    quality: f.quality,
    notFace: f.notFace,
  };
}

/** The nearest named people to a direction ("is this Alice?"), best first. */
function suggest(
  s: Snapshot,
  v: Float32Array | undefined,
  except?: number,
): { id: number; name: string; similarity: number }[] {
  if (!v) return [];
  const out: { id: number; name: string; similarity: number }[] = [];
  for (const p of s.people) {
    if (p.name === null || p.id === except) continue;
    const c = s.centroids.get(p.id);
    if (!c) continue;
    let d = 0;
    for (let j = 0; j < c.length; j++) d += c[j] * v[j];
    if (d >= s.minSim) out.push({ id: p.id, name: p.name, similarity: d });
  }
  return out.sort((a, b) => b.similarity - a.similarity).slice(0, 3);
}

/** One decision from the page, as the CLI's commands make them. */
async function decide(
  lib: Library,
  body: Record<string, unknown>,
  options: ReviewOptions,
): Promise<{ ok: true; summary: string; decision: number | null }> {
  const done = async (decision: number) => ({
    ok: true as const,
    decision,
    summary: (await lib.decisions()).find((d) => d.id === decision)!.summary,
  });
  switch (body.action) {
    case "name": {
      if (typeof body.name !== "string" && body.name !== null) {
        throw new InputError("name", "expected a name or null");
      }
      return await done(await lib.name(id(body.person, "person"), body.name as string | null));
    }
    case "merge":
      return await done(await lib.merge(personRef(body.into, "into"), ids(body.others, "others")));
    case "move":
      return await done(
        await lib.move(
          ids(body.faces, "faces"),
          body.to === null || body.to === "new" ? null : personRef(body.to, "to"),
          typeof body.name === "string" ? body.name : null,
        ),
      );
    case "split":
      return await done(await lib.split(id(body.person, "person"), ids(body.faces, "faces")));
    case "not-face":
      return await done(await lib.notAFace(ids(body.faces, "faces")));
    case "not-person":
      return await done(await lib.notThisPerson(ids(body.faces, "faces")));
    case "undo": {
      const d = await lib.undo();
      return {
        ok: true,
        decision: d?.id ?? null,
        summary: d ? `undone: ${d.summary}` : "nothing to undo",
      };
    }
    case "recluster": {
      const summary = options.recluster
        ? await options.recluster()
        : reclusterText(await lib.recluster({ cacheDir: options.cacheDir }));
      return { ok: true, decision: null, summary };
    }
    default:
      throw new InputError("action", `unknown action ${JSON.stringify(body.action)}`);
  }
}

/** The largest request body taken (a decision is a few hundred bytes). */
const MAX_BODY = 64 * 1024;

/** A request's body as text, or null when it is over `max` bytes (read no further). */
async function boundedText(req: Request, max: number): Promise<string | null> {
  if (Number(req.headers.get("content-length") ?? 0) > max) return null;
  if (!req.body) return "";
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of req.body) {
    size += part.length;
    if (size > max) return null;
    parts.push(part);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new TextDecoder().decode(all);
}

/** What a re-cluster changed, in a line. */
function reclusterText(r: RunSummary): string {
  return `re-clustered: ${r.update.people.people} people (${r.changes.new_people.length} new), ${r.changes.faces_moved} faces changed person; ${r.folders.written} files written, ${r.folders.moved} moved, ${r.folders.removed} removed`;
}
