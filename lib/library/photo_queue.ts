/**
 * The photo work of a shared library as jobs in a well-kept queue on the library's own
 * PostgreSQL database: pg-boss (`FOR UPDATE SKIP LOCKED`, expiry and retry), one job a
 * batch of photos. A worker that dies loses its claim when the job expires, and another
 * worker takes the batch.
 *
 * @module
 */

// deno-lint-ignore no-import-prefix -- a full specifier, so that mod.ts works imported by URL
import { PgBoss } from "npm:pg-boss@12.38.1";
import { InputError } from "../errors.ts";
import { safeUrl, unreachable } from "./pg_url.ts";

/** The queue's name. */
export const PHOTO_QUEUE = "facecluster-photos";

/** A photo to do, as registered: its path relative to the root, size and time. */
export interface QueuedPhoto {
  /** Path relative to the root, `/` separators. */
  path: string;
  /** Size in bytes when registered. */
  size: number;
  /** Modification time (ms) when registered. */
  mtime: number;
}

/** A claimed batch. */
export interface PhotoBatch {
  /** The job's id. */
  id: string;
  /** Its photos. */
  photos: QueuedPhoto[];
  /** How many times it was claimed before (a worker died or failed on it). */
  retries: number;
}

/** Options of {@link PhotoQueue.open}. */
export interface PhotoQueueOptions {
  /**
   * Seconds a claimed batch may take before another worker may take it (its worker is
   * taken for dead); set by the scan, for the batches it queues. @default 300
   */
  expireSeconds?: number;
  /** Times a batch is tried again after its worker died or failed (set by the scan). @default 5 */
  retries?: number;
  /** How often (s) expired claims are looked for. @default 5 */
  superviseSeconds?: number;
}

/**
 * The queue of a library's photo work.
 *
 * @example
 * ```ts ignore
 * const q = await PhotoQueue.open("postgres://me@127.0.0.1/photos");
 * await q.add([[{ path: "a.jpg", size: 1, mtime: 1 }]]);
 * const [batch] = await q.claim(1);
 * await q.done([batch.id]);
 * await q.close();
 * ```
 */
export class PhotoQueue {
  #boss: PgBoss;
  #url: string;

  private constructor(boss: PgBoss, url: string) {
    this.#boss = boss;
    this.#url = url;
  }

  /**
   * Connects to the queue (creating pg-boss's schema and the queue on first use).
   *
   * @param url The library's `postgres://` address.
   * @param options Expiry and retries (`policy`: set them, as the scan does, for the
   *   batches queued from now on).
   * @returns The queue.
   * @throws {InputError} When the database cannot be reached.
   */
  static async open(
    url: string,
    options: PhotoQueueOptions & { policy?: boolean } = {},
  ): Promise<PhotoQueue> {
    const boss = new PgBoss({
      connectionString: url,
      max: 2,
      schedule: false,
      supervise: true,
      // expired claims are found by the monitor pass, which runs no more often than this
      superviseIntervalSeconds: options.superviseSeconds ?? 5,
      monitorIntervalSeconds: options.superviseSeconds ?? 5,
      application_name: `facecluster worker ${Deno.pid}`,
    });
    const errors: unknown[] = [];
    boss.on("error", (e) => errors.push(e));
    try {
      await boss.start();
      const queue = {
        expireInSeconds: options.expireSeconds ?? 300,
        retryLimit: options.retries ?? 5,
        retryDelay: 0,
        deleteAfterSeconds: 7 * 24 * 3600,
      };
      if (await boss.getQueue(PHOTO_QUEUE)) await boss.updateQueue(PHOTO_QUEUE, queue);
      else {await boss.createQueue(PHOTO_QUEUE, queue).catch(async (e) => {
          // another worker created it meanwhile
          if (!(await boss.getQueue(PHOTO_QUEUE))) throw e;
        });}
    } catch (e) {
      await boss.stop({ graceful: false, timeout: 1000 }).catch(() => {});
      const why = unreachable(e);
      throw new InputError(
        safeUrl(url),
        why
          ? `cannot reach the library's database: ${why}`
          : `the photo queue: ${(e as Error).message}`,
      );
    }
    return new PhotoQueue(boss, url);
  }

  /**
   * Queues batches of photos.
   *
   * @param batches Each batch one job.
   */
  async add(batches: QueuedPhoto[][]): Promise<void> {
    for (let s = 0; s < batches.length; s += 1000) {
      await this.#boss.insert(
        PHOTO_QUEUE,
        batches.slice(s, s + 1000).map((photos) => ({ data: { photos } })),
      );
    }
  }

  /**
   * Claims up to `n` batches (none: nothing is waiting now).
   *
   * @param n Batches.
   * @returns The claimed batches.
   */
  async claim(n = 1): Promise<PhotoBatch[]> {
    const jobs = await this.#boss.fetch<{ photos: QueuedPhoto[] }>(PHOTO_QUEUE, { batchSize: n });
    return jobs.map((j) => ({ id: j.id, photos: j.data.photos, retries: j.retryCount }));
  }

  /** Marks batches done. */
  async done(ids: string[]): Promise<void> {
    if (ids.length) await this.#boss.complete(PHOTO_QUEUE, ids);
  }

  /** Gives batches back as failed (tried again while retries are left). */
  async failed(ids: string[], error: string): Promise<void> {
    if (ids.length) await this.#boss.fail(PHOTO_QUEUE, ids, { error });
  }

  /**
   * Batches waiting, being retried or claimed now (0: all the photo work is done).
   *
   * @returns The count.
   */
  async pending(): Promise<number> {
    // pg-boss's job table (documented: https://timgit.github.io/pg-boss): its own counts are
    // cached by its monitor, and "is anything left" must be read now
    const { rows } = await this.#boss.getDb().executeSql(
      `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1
        AND state IN ('created', 'retry', 'active')`,
      [PHOTO_QUEUE],
    );
    return rows[0].n;
  }

  /**
   * Batches that failed for good (their photos had errors every time they were tried).
   *
   * @returns The count.
   */
  async failedForGood(): Promise<number> {
    const { rows } = await this.#boss.getDb().executeSql(
      `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'failed'`,
      [PHOTO_QUEUE],
    );
    return rows[0].n;
  }

  /** The library's address (without its password). */
  get location(): string {
    return safeUrl(this.#url);
  }

  /** Disconnects. */
  async close(): Promise<void> {
    await this.#boss.stop({ graceful: false, timeout: 2000 });
  }
}
