// Several machines, one library: a scan and three workers (`cli.ts worker`, each its own
// process with one core) on a throwaway PostgreSQL, one of them killed with SIGKILL at a
// random moment, five times; a second clustering refused while one runs; a wrong root
// refused before anything is claimed; PostgreSQL stopped under a worker and started again.

import postgres from "postgres";
import { PgStore } from "../../lib/library/postgres_store.ts";
import { PhotoQueue } from "../../lib/library/photo_queue.ts";
import { pgCluster, postgresSkip } from "../postgres.ts";
import { partitionOf } from "../library_check.ts";
import {
  assert,
  assertEquals,
  hasShared,
  linkSharedPhotos,
  runCli,
  SHARED_MODELS,
  sharedPhotos,
  withSharedModels,
} from "../shared.ts";

const HAVE = hasShared("faces/lfw_min10") && SHARED_MODELS && postgresSkip() === null;
const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** An lfw_min10 subset across its people: every 20th photo. */
const subset = (): string[] => sharedPhotos("lfw_min10").filter((_, i) => i % 20 === 0);

/** The database's invariants, read with a connection of its own; returns the photo paths. */
async function checkDatabase(url: string): Promise<string[]> {
  const sql = postgres(url, { onnotice: () => {} });
  try {
    const one = async (q: string) => Object.values((await sql.unsafe(q))[0])[0];
    assertEquals(
      await one(
        "SELECT count(*)::int FROM faces f LEFT JOIN vectors v ON v.face_id = f.id WHERE v.face_id IS NULL",
      ),
      0,
      "a face without its vector",
    );
    assertEquals(
      await one(
        "SELECT count(*)::int FROM photos WHERE status = 'faces' AND duplicate_of IS NULL AND id NOT IN (SELECT photo_id FROM faces)",
      ),
      0,
      "a photo with faces lost them",
    );
    assertEquals(
      await one("SELECT (count(*) - count(DISTINCT (photo_id, box)))::int FROM faces"),
      0,
      "a face stored twice",
    );
    assertEquals(
      await one(
        "SELECT count(*)::int FROM assignments a LEFT JOIN persons p ON p.id = a.person_id WHERE a.person_id IS NOT NULL AND p.id IS NULL",
      ),
      0,
      "an assignment to no person",
    );
    assertEquals(await one("SELECT count(*)::int FROM photos WHERE status = 'failed'"), 0);
    return (await sql`SELECT path FROM photos ORDER BY path`).map((r) => r.path as string);
  } finally {
    await sql.end();
  }
}

/** Photos stored so far (a connection of its own). */
async function storedPhotos(url: string): Promise<number> {
  const sql = postgres(url, { onnotice: () => {} });
  try {
    return (await sql`SELECT count(*)::int AS n FROM photos`)[0].n as number;
  } finally {
    await sql.end();
  }
}

const worker = (url: string, root: string, cache: string, extra: string[] = []) =>
  new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI,
      "worker",
      "--library",
      url,
      "--root",
      root,
      "--threads",
      "1",
      "--cache",
      cache,
      "--quiet",
      "--json",
      ...extra,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();

Deno.test({
  name:
    "workers: three workers, one killed with -9 at a random moment (5 tries): every photo once, no face twice, the people of a single SQLite run",
  ignore: !HAVE,
  fn: () =>
    withSharedModels(async (cache, root) => {
      const files = subset();
      await linkSharedPhotos("lfw_min10", files, `${root}/in`);
      const single = await runCli([
        `${root}/in`,
        "--out",
        `${root}/single`,
        "--quiet",
        "--json",
        "--cache",
        cache,
      ]);
      assertEquals(single.code, 0, single.stderr);
      const want = await partitionOf(`${root}/single`);
      const pg = await pgCluster();
      let seed = 20261208, retriedInAll = 0;
      const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
      for (let t = 0; t < 5; t++) {
        const url = await pg.createDb();
        const out = `${root}/shared_${t}`;
        const scan = await runCli([
          "scan",
          `${root}/in`,
          "--library",
          url,
          "--out",
          out,
          "--batch",
          "1",
          "--expire",
          "3",
          "--cache",
          cache,
          "--json",
        ]);
        assertEquals(scan.code, 0, scan.stderr);
        assertEquals(JSON.parse(scan.stdout).queued, files.length);
        const workers = [0, 1, 2].map(() => worker(url, `${root}/in`, cache));
        const victim = workers[Math.floor(rnd() * 3)];
        // while they work: once a random share (10–70%) of the photos is stored (each worker
        // claims 16 batches of one photo at a time, so each holds a claim while it works)
        const share = 0.1 + rnd() * 0.6;
        const t0 = performance.now();
        while ((await storedPhotos(url)) < share * files.length) {
          await new Promise((r) => setTimeout(r, 20));
        }
        const at = performance.now() - t0;
        victim.kill("SIGKILL");
        const ends = await Promise.all(workers.map(async (w) => {
          const o = await w.output();
          return { w, code: o.code, err: new TextDecoder().decode(o.stderr) };
        }));
        for (const e of ends) {
          if (e.w !== victim) assertEquals(e.code, 0, e.err);
        }
        // the clustering step (a no-op when the last worker ran it)
        const cl = await runCli([
          "cluster",
          "--library",
          url,
          "--cache",
          cache,
          "--quiet",
          "--json",
        ]);
        assertEquals(cl.code, 0, cl.stderr);
        const paths = await checkDatabase(url);
        const sql = postgres(url, { onnotice: () => {} });
        const [{ retried }] = await sql`SELECT count(*)::int AS retried FROM pgboss.job
          WHERE retry_count > 0`;
        await sql.end();
        retriedInAll += retried;
        assertEquals(paths, [...files].sort(), `try ${t}: every photo once`);
        assertEquals(await partitionOf(out), want, `try ${t}: the people of a single run`);
        console.log(
          `try ${t}: killed a worker after ${(at / 1000).toFixed(1)} s, ${
            Math.round(share * 100)
          }% of the photos stored (${retried} batches taken again); ${paths.length} photos once, ${want.length} people as in the single run`,
        );
      }
      assert(retriedInAll > 0, "a killed worker's claim was taken again by another");
    }),
});

Deno.test({
  name:
    "workers: a second clustering refuses while one runs; a wrong root refuses before claiming anything",
  ignore: !HAVE,
  fn: () =>
    withSharedModels(async (cache, root) => {
      const files = subset().slice(0, 12);
      await linkSharedPhotos("lfw_min10", files, `${root}/in`);
      const url = await (await pgCluster()).createDb();
      const scan = await runCli([
        "scan",
        `${root}/in`,
        "--library",
        url,
        "--batch",
        "4",
        "--cache",
        cache,
        "--quiet",
      ]);
      assertEquals(scan.code, 0, scan.stderr);
      // a wrong root: refused by name, the queue untouched
      await Deno.mkdir(`${root}/elsewhere`);
      const wrong = await runCli([
        "worker",
        "--library",
        url,
        "--root",
        `${root}/elsewhere`,
        "--cache",
        cache,
      ]);
      assertEquals(wrong.code, 1, wrong.stderr);
      assert(
        wrong.stderr.includes(`${root}/elsewhere`) && wrong.stderr.includes("root"),
        wrong.stderr,
      );
      const q = await PhotoQueue.open(url);
      const sql = postgres(url, { onnotice: () => {} });
      try {
        assertEquals(await q.pending(), 3);
        const [{ n }] =
          await sql`SELECT count(*)::int AS n FROM pgboss.job WHERE state <> 'created'`;
        assertEquals(n, 0, "nothing was claimed");
      } finally {
        await sql.end();
        await q.close();
      }
      // the photo work, then a clustering step while another one holds the library
      const ok = await runCli([
        "worker",
        "--library",
        url,
        "--root",
        `${root}/in`,
        "--cache",
        cache,
        "--no-cluster",
        "--quiet",
      ]);
      assertEquals(ok.code, 0, ok.stderr);
      const holder = await PgStore.open(url);
      try {
        await holder.lock(Deno.pid);
        const second = await runCli(["cluster", "--library", url, "--cache", cache, "--quiet"]);
        assertEquals(second.code, 3, second.stderr);
        assert(second.stderr.includes(`process ${Deno.pid}`), second.stderr);
      } finally {
        await holder.close();
      }
      const after = await runCli([
        "cluster",
        "--library",
        url,
        "--cache",
        cache,
        "--quiet",
        "--json",
      ]);
      assertEquals(after.code, 0, after.stderr);
      assert(JSON.parse(after.stdout).people > 0, after.stdout);
    }),
});

Deno.test({
  name:
    "workers: PostgreSQL stopped under a worker gives a clear error, loses nothing, and the work goes on after a restart",
  ignore: !HAVE,
  fn: () =>
    withSharedModels(async (cache, root) => {
      const files = subset().slice(0, 40);
      await linkSharedPhotos("lfw_min10", files, `${root}/in`);
      const pg = await pgCluster();
      const url = await pg.createDb();
      const scan = await runCli([
        "scan",
        `${root}/in`,
        "--library",
        url,
        "--batch",
        "2",
        "--expire",
        "3",
        "--cache",
        cache,
        "--quiet",
      ]);
      assertEquals(scan.code, 0, scan.stderr);
      const w = worker(url, `${root}/in`, cache, ["--db-wait", "3"]);
      // some photos stored, then the server goes away
      const count = () => storedPhotos(url);
      let before = 0;
      for (let i = 0; i < 300 && (before = await count()) < 4; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await pg.stop();
      const o = await w.output();
      const err = new TextDecoder().decode(o.stderr);
      assertEquals(o.code, 1, err);
      assert(err.includes("cannot reach the library's database"), err);
      await pg.start();
      const kept = await count();
      assert(kept >= before && kept < files.length, `${kept} photos kept (${before} before)`);
      const again = await runCli([
        "worker",
        "--library",
        url,
        "--root",
        `${root}/in`,
        "--cache",
        cache,
        "--quiet",
      ]);
      assertEquals(again.code, 0, again.stderr);
      assertEquals(await checkDatabase(url), [...files].sort());
    }),
});
