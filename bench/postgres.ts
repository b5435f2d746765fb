/**
 * What a shared PostgreSQL library costs, on a throwaway cluster on loopback (Debian's
 * PostgreSQL 15, `tests/postgres.ts`):
 *
 * - `photos [--set lfw_min10] [--limit N] [--rounds 3]`: the SQLite main job and one worker on
 *   PostgreSQL (scan, then `cli.ts worker` with the last-worker clustering and the folders) on
 *   the same photos, alternately in one run: photos/s of each, whole commands, medians.
 * - `writers [--photos 20000] [--workers 1,2,4,8] [--batch 8]`: N simulated workers (each its
 *   own process) claim batches from the real queue (pg-boss) and write the faces of synthetic
 *   photos (1.3 faces a photo: a 128-d vector, a 2.8 KB chip) through `PgStore.putPhotos`, as
 *   the workers do after the models; the database time per photo (claim, write, complete) and
 *   the photos/s of all of them, per worker count.
 *
 *     FACECLUSTER_CACHE=<models> deno run -A bench/postgres.ts photos
 *     deno run -A bench/postgres.ts writers
 *
 * @module
 */

import { parseArgs } from "node:util";
import { PgStore } from "../lib/library/postgres_store.ts";
import { PhotoQueue, type QueuedPhoto } from "../lib/library/photo_queue.ts";
import type { NewFace } from "../lib/library/store.ts";
import { pgCluster } from "../tests/postgres.ts";
import postgres from "postgres";

const SHARED = new URL("../../shared/", import.meta.url).pathname;
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;

async function run(args: string[]): Promise<{ seconds: number; stdout: string }> {
  const t0 = performance.now();
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t0) / 1000;
  if (!o.success) throw new Error(`${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
  return { seconds, stdout: new TextDecoder().decode(o.stdout) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function photos(set: string, limit: number, rounds: number): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "fc_pgbench_" });
  const input = `${root}/in`;
  let n = 0;
  for (const p of [...Deno.readDirSync(`${SHARED}faces/${set}`)].map((e) => e.name).sort()) {
    for (
      const f of [...Deno.readDirSync(`${SHARED}faces/${set}/${p}`)].map((e) => e.name).sort()
    ) {
      if (n >= limit) break;
      await Deno.mkdir(`${input}/${p}`, { recursive: true });
      await Deno.symlink(`${SHARED}faces/${set}/${p}/${f}`, `${input}/${p}/${f}`);
      n++;
    }
  }
  const pg = await pgCluster();
  // alternately, `rounds` times each, each on a new library; the medians (this box's timings
  // move by ±10% from run to run)
  const runs: { sqlite: number; scan: number; worker: number }[] = [];
  let sqliteOut = "", workerOut = "";
  for (let r = 0; r < rounds; r++) {
    const url = await pg.createDb();
    const sqlite = await run([input, "--out", `${root}/sqlite${r}`, "--quiet", "--json"]);
    const scan = await run(["scan", input, "--library", url, "--out", `${root}/pg${r}`, "--quiet"]);
    const worker = await run(["worker", "--library", url, "--root", input, "--quiet", "--json"]);
    runs.push({ sqlite: sqlite.seconds, scan: scan.seconds, worker: worker.seconds });
    [sqliteOut, workerOut] = [sqlite.stdout, worker.stdout];
    console.error(JSON.stringify(runs.at(-1)));
  }
  const sqlite = { seconds: median(runs.map((x) => x.sqlite)), stdout: sqliteOut };
  const scan = { seconds: median(runs.map((x) => x.scan)) };
  const worker = { seconds: median(runs.map((x) => x.worker)), stdout: workerOut };
  const people = (s: string) => JSON.parse(s).people;
  console.log(
    `${set}, ${n} photos, one process each (2 cores), medians of ${rounds} alternating runs, ${
      new Date().toISOString()
    }`,
  );
  console.log("| | seconds | photos/s | people |");
  console.log("|---|---|---|---|");
  console.log(
    `| SQLite main job | ${sqlite.seconds.toFixed(1)} | ${(n / sqlite.seconds).toFixed(1)} | ${
      people(sqlite.stdout)
    } |`,
  );
  console.log(`| PostgreSQL scan | ${scan.seconds.toFixed(1)} | | |`);
  console.log(
    `| PostgreSQL worker (faces, clustering, folders) | ${worker.seconds.toFixed(1)} | ${
      (n / worker.seconds).toFixed(1)
    } | ${people(worker.stdout)} |`,
  );
  console.log(
    `| PostgreSQL scan + worker | ${(scan.seconds + worker.seconds).toFixed(1)} | ${
      (n / (scan.seconds + worker.seconds)).toFixed(1)
    } | |`,
  );
  console.log(
    `worker / SQLite photos/s: ${(sqlite.seconds / worker.seconds).toFixed(3)} (with the scan ${
      (sqlite.seconds / (scan.seconds + worker.seconds)).toFixed(3)
    })`,
  );
  await Deno.remove(root, { recursive: true });
}

/** A simulated worker: claims, writes synthetic faces, completes; prints its times as JSON. */
async function writer(url: string, seed: number): Promise<void> {
  const store = await PgStore.open(url, { connections: 1 });
  const queue = await PhotoQueue.open(url);
  let s = seed;
  const rnd = () => (s = (s * 48271) % 2147483647) / 2147483647;
  const chip = new Uint8Array(2800).map(() => Math.floor(rnd() * 256));
  const faceOf = (): NewFace => {
    const v = new Float32Array(128).map(() => rnd() - 0.5);
    const norm = Math.hypot(...v);
    return {
      box: { x: rnd() * 500, y: rnd() * 500, width: 90, height: 110 },
      landmarks: [],
      points: [[30, 40], [60, 40], [45, 60], [33, 80], [57, 80]],
      score: 0.9,
      source: "detected",
      quality: 0.8,
      norm: 20,
      vector: v.map((x) => x / norm),
      chip,
    };
  };
  let photos = 0, claim = 0, write = 0, done = 0;
  for (;;) {
    const t0 = performance.now();
    const [batch] = await queue.claim(1);
    const t1 = performance.now();
    claim += t1 - t0;
    if (!batch) break;
    const items = batch.photos.map((p: QueuedPhoto) => ({
      photo: {
        path: p.path,
        size: p.size,
        mtime: p.mtime,
        sha256: p.path,
        width: 640,
        height: 480,
        status: "faces" as const,
        error: null,
        duplicateOf: null,
      },
      faces: Array.from({ length: rnd() < 0.3 ? 2 : 1 }, faceOf),
    }));
    const t2 = performance.now();
    await store.putPhotos(items);
    const t3 = performance.now();
    await queue.done([batch.id]);
    write += t3 - t2;
    done += performance.now() - t3;
    photos += items.length;
  }
  await queue.close();
  await store.close();
  console.log(JSON.stringify({ photos, claim, write, done }));
}

async function writers(total: number, counts: number[], batch: number): Promise<void> {
  const pg = await pgCluster();
  console.log(
    `${total} synthetic photos (1.3 faces each, 128-d vectors, 2.8 KB chips), batches of ${batch}, PostgreSQL 15 on loopback, this 2-core box, ${
      new Date().toISOString()
    }`,
  );
  console.log(
    "| workers | wall s | photos/s (all) | server ms/photo (wall / photos) | DB ms/photo seen by a worker (claim + write + complete) | of it: write | claim | complete | database KB/face |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const w of counts) {
    const url = await pg.createDb();
    const store = await PgStore.open(url);
    await store.setSetting("model_key", "mobilefacenet");
    await store.close();
    const queue = await PhotoQueue.open(url, { policy: true });
    const jobs: QueuedPhoto[][] = [];
    for (let i = 0; i < total; i += batch) {
      jobs.push(
        Array.from({ length: Math.min(batch, total - i) }, (_, j) => ({
          path: `p${Math.floor((i + j) / 1000)}/photo_${i + j}.jpg`,
          size: 100_000 + i + j,
          mtime: 1,
        })),
      );
    }
    await queue.add(jobs);
    await queue.close();
    const t0 = performance.now();
    const outs = await Promise.all(
      Array.from({ length: w }, (_, k) =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", SELF, "writer", "--url", url, "--seed", String(k + 1)],
          stdout: "piped",
          stderr: "inherit",
        }).output()),
    );
    const wall = (performance.now() - t0) / 1000;
    const r = outs.map((o) => JSON.parse(new TextDecoder().decode(o.stdout)));
    const sum = (k: string) => r.reduce((a, x) => a + x[k], 0);
    const photos = sum("photos");
    if (photos !== total) throw new Error(`${photos} photos written, not ${total}`);
    const per = (k: string) => (sum(k) / photos).toFixed(2);
    const sql = postgres(url, { onnotice: () => {} });
    const [{ bytes, faces }] = await sql`SELECT pg_database_size(current_database())::float8
      AS bytes, (SELECT count(*)::int FROM faces) AS faces`;
    await sql.end();
    console.log(
      `| ${w} | ${wall.toFixed(1)} | ${(total / wall).toFixed(0)} | ${
        (wall * 1000 / total).toFixed(2)
      } | ${((sum("claim") + sum("write") + sum("done")) / photos).toFixed(2)} | ${
        per("write")
      } | ${per("claim")} | ${per("done")} | ${(bytes / faces / 1024).toFixed(2)} |`,
    );
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      set: { type: "string", default: "lfw_min10" },
      limit: { type: "string", default: "100000" },
      rounds: { type: "string", default: "3" },
      photos: { type: "string", default: "20000" },
      workers: { type: "string", default: "1,2,4,8" },
      batch: { type: "string", default: "8" },
      url: { type: "string" },
      seed: { type: "string", default: "1" },
    },
  });
  const mode = positionals[0];
  if (mode === "photos") await photos(values.set, Number(values.limit), Number(values.rounds));
  else if (mode === "writers") {
    await writers(
      Number(values.photos),
      values.workers.split(",").map(Number),
      Number(values.batch),
    );
  } else if (mode === "writer") await writer(values.url!, Number(values.seed));
  else {
    console.error("bench/postgres.ts photos|writers");
    Deno.exit(2);
  }
}
