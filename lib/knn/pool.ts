/**
 * A pool of kNN worker threads that runs jobs from a queue: shared by the exact and the
 * IVF paths.
 *
 * @module
 */

import { WebWorker } from "../web_worker.ts";

/** A worker's answer. */
type Reply = { done?: number; error?: string; result?: unknown };

/**
 * A pool of kNN workers (`cpu_worker.ts`) that runs jobs from a queue.
 *
 * @example
 * ```ts ignore
 * import { Pool } from "./pool.ts";
 * const pool = new Pool(2);
 * try {
 *   await pool.queue([{ type: "rows" }]);
 * } finally {
 *   pool.terminate();
 * }
 * ```
 */
export class Pool {
  #workers: Worker[];
  constructor(count: number) {
    this.#workers = Array.from(
      { length: count },
      () => new WebWorker(new URL("./cpu_worker.ts", import.meta.url), { type: "module" }),
    );
  }

  get size(): number {
    return this.#workers.length;
  }

  /** Sends `each(w)` to every worker and waits for all replies. */
  async broadcast(each: (w: number) => Record<string, unknown>): Promise<void> {
    await Promise.all(this.#workers.map((w, i) => this.#ask(w, each(i))));
  }

  /**
   * Runs `jobs` on whichever worker is free, in order; returns each job's `result` (what the
   * worker sent with its answer, if anything), by job.
   */
  async queue(jobs: Record<string, unknown>[], signal?: AbortSignal): Promise<unknown[]> {
    let next = 0;
    const results: unknown[] = new Array(jobs.length);
    const run = async (w: Worker) => {
      while (next < jobs.length) {
        signal?.throwIfAborted();
        const j = next++;
        results[j] = await this.#ask(w, jobs[j]);
      }
    };
    const aborted = new Promise<never>((_, reject) => {
      signal?.addEventListener(
        "abort",
        () => reject(signal.reason ?? new DOMException("Aborted", "AbortError")),
        { once: true },
      );
    });
    await Promise.race([Promise.all(this.#workers.map(run)), aborted]);
    return results;
  }

  #ask(w: Worker, msg: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      w.onmessage = (e: MessageEvent<Reply>) => {
        if (e.data.error) reject(new Error(`kNN worker failed: ${e.data.error}`));
        else resolve(e.data.result);
      };
      w.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`kNN worker failed: ${e.message}`));
      };
      w.postMessage({ id: 0, ...msg });
    });
  }

  terminate(): void {
    for (const w of this.#workers) w.terminate();
  }
}
