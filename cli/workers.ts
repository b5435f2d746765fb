/**
 * Several machines, one PostgreSQL library: `scan` registers and queues the photos,
 * `worker` (on any number of machines) finds their faces, `cluster` runs the clustering
 * step (the last worker runs it too). Thin shells over `lib/library/workers.ts`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { modelCacheDir } from "../lib/embed/download.ts";
import { chooseInferenceDevice, setInferenceThreads } from "../lib/embed/onnx_runtime.ts";
import { InputError } from "../lib/errors.ts";
import { Library } from "../lib/library/library.ts";
import { checkOutputFolder } from "../lib/library/open.ts";
import { isPostgresUrl } from "../lib/library/pg_url.ts";
import { registerPhotos, runWorker } from "../lib/library/workers.ts";
import { Progress } from "../lib/progress/progress.ts";
import { fail, intOption } from "./common.ts";
import { photoOptions } from "./photos.ts";

function needUrl(library: string | undefined, command: string): string {
  if (library === undefined || !isPostgresUrl(library)) {
    throw new InputError(
      `--library`,
      `${command} takes a shared library: --library postgres://user@host:port/database`,
    );
  }
  return library;
}

/**
 * `scan PHOTOS_DIR --library postgres://… [--out DIR] [--batch N] [--expire S] [the main job's
 * settings]`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function scanCommand(args: string[]): Promise<number> {
  const o = await photoOptions(args, { batch: { type: "string" }, expire: { type: "string" } });
  if (o === null) return fail("scan PHOTOS_DIR --library postgres://…");
  const url = needUrl(o.library, "scan");
  const out = o.out === undefined ? undefined : (await checkOutputFolder(o.input, o.out)).real;
  const lib = await Library.open(url);
  try {
    const r = await registerPhotos(lib, url, o.input, {
      ...o.run,
      out,
      batch: intOption(o.extra.batch as string | undefined, "batch", undefined),
      queue: {
        expireSeconds: intOption(o.extra.expire as string | undefined, "expire", undefined),
      },
      onNotice: (m) => o.quiet || console.error(m),
    });
    const j = {
      library: lib.store.location,
      photos: r.photos,
      queued: r.queued,
      batches: r.batches,
      moved_photos: r.faces.touched,
      removed_photos: r.faces.removed,
      duplicate_photos: r.faces.duplicates,
      failed: r.faces.failed,
    };
    if (o.json) console.log(JSON.stringify(j));
    else {
      console.log(
        `${j.photos} photos under ${o.input}: ${j.queued} queued for the workers in ${j.batches} batches; ${j.moved_photos} moved or touched, ${j.removed_photos} forgotten, ${j.duplicate_photos} copies`,
      );
    }
    return 0;
  } finally {
    await lib.close();
  }
}

/**
 * `worker --library postgres://… --root DIR [--threads N] [--out DIR] [--no-cluster]
 * [--db-wait S] [--cache DIR] [--json] [--quiet]`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function workerCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      library: { type: "string" },
      root: { type: "string" },
      threads: { type: "string" },
      out: { type: "string" },
      "no-cluster": { type: "boolean", default: false },
      "db-wait": { type: "string" },
      cache: { type: "string" },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 0 || values.root === undefined) {
    return fail("worker --library postgres://… --root DIR");
  }
  const url = needUrl(values.library, "worker");
  const threads = intOption(values.threads, "threads", undefined);
  if (threads !== undefined) setInferenceThreads(threads);
  const { device: inference } = await chooseInferenceDevice("cpu");
  const say = (m: string) => values.quiet || console.error(m);
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  Deno.addSignalListener("SIGINT", onInterrupt);
  const lib = await Library.open(url);
  const progress = values.quiet ? null : new Progress();
  let done = 0;
  try {
    const r = await runWorker(lib, url, {
      root: values.root,
      engine: { cacheDir: values.cache ?? modelCacheDir(), inference, workers: threads },
      cluster: !values["no-cluster"],
      out: values.out,
      dbWait: intOption(values["db-wait"], "db-wait", undefined),
      onBatch: (n) => progress?.update("faces", done += n, 0),
      onNotice: say,
      signal: stop.signal,
    });
    progress?.end();
    const j = {
      library: lib.store.location,
      batches: r.batches,
      photos: r.photos,
      failed: r.failed,
      clustered: r.cluster !== null,
      people: r.cluster?.update.people.people ?? null,
      seconds: r.seconds,
    };
    if (values.json) console.log(JSON.stringify(j));
    else {
      console.log(
        `worker: ${j.photos} photos in ${j.batches} batches (${j.failed.length} failed) in ${
          j.seconds.toFixed(1)
        } s${j.clustered ? `; clustered: ${j.people} people` : ""}`,
      );
    }
    return 0;
  } catch (e) {
    if (!stop.signal.aborted) throw e;
    progress?.end();
    console.error("stopped: the batch in hand goes back to the queue when its claim expires");
    return 130;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    await lib.close();
  }
}

/**
 * `cluster --library postgres://… [--root DIR] [--out DIR] [--cache DIR] [--json] [--quiet]`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function clusterCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      library: { type: "string" },
      root: { type: "string" },
      out: { type: "string" },
      cache: { type: "string" },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 0) return fail("cluster --library LIBRARY");
  const where = values.library;
  if (where === undefined) return fail("cluster --library LIBRARY");
  const lib = await Library.open(where);
  const progress = values.quiet ? null : new Progress();
  try {
    const r = await lib.cluster({
      cacheDir: values.cache ?? modelCacheDir(),
      input: values.root,
      out: values.out,
      onProgress: (stage, done, total, detail) => progress?.update(stage, done, total, detail),
    });
    progress?.end();
    const j = {
      library: lib.store.location,
      faces: r.update.people.faces,
      people: r.update.people.people,
      changes: r.changes,
      folders: r.folders &&
        { out: r.folders.out, written: r.folders.written, removed: r.folders.removed },
      seconds: r.seconds,
    };
    if (values.json) console.log(JSON.stringify(j));
    else {
      console.log(
        `clustered ${j.faces} faces: ${j.people} people (${j.changes.new_people.length} new), ${j.changes.faces_moved} faces changed person${
          j.folders ? `; ${j.folders.written} files written in ${j.folders.out}` : ""
        }`,
      );
    }
    return 0;
  } finally {
    await lib.close();
  }
}
