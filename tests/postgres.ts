/**
 * A throwaway PostgreSQL cluster for the tests and benches: Debian's `postgresql` binaries,
 * `initdb` in a temporary folder (as the unprivileged `postgres` user when run as root), trust
 * authentication on 127.0.0.1 only, a free port, fsync off; stopped and removed when the
 * process ends. Where PostgreSQL is not installed, {@link postgresSkip} says so in one line.
 *
 * @module
 */

import { existsSync } from "node:fs";

/** A running throwaway cluster. */
export interface PgCluster {
  /** Its port on 127.0.0.1. */
  port: number;
  /** Its data folder. */
  dir: string;
  /** The URL of a database on it. */
  url(db: string): string;
  /** Creates a database and returns its URL. */
  createDb(name?: string): Promise<string>;
  /** Stops the server (fast), keeping its data; {@link PgCluster.start} starts it again. */
  stop(): Promise<void>;
  /** Starts it again after {@link PgCluster.stop}. */
  start(): Promise<void>;
}

/** The folder holding `initdb` and `pg_ctl`, or null. */
export function pgBin(): string | null {
  const dirs = ["/usr/local/bin", "/usr/bin"];
  try {
    for (const v of [...Deno.readDirSync("/usr/lib/postgresql")].map((e) => e.name).sort()) {
      dirs.push(`/usr/lib/postgresql/${v}/bin`);
    }
  } catch { /* not installed there */ }
  return dirs.find((d) => existsSync(`${d}/initdb`) && existsSync(`${d}/pg_ctl`)) ?? null;
}

/**
 * Why PostgreSQL tests cannot run here (printed once), or null when they can.
 *
 * @returns The reason, or null.
 */
export function postgresSkip(): string | null {
  if (pgBin() !== null) return null;
  const why =
    "SKIP: PostgreSQL is not installed (apt-get install postgresql); the PostgreSQL store tests are ignored";
  if (!warned) console.warn(why);
  warned = true;
  return why;
}
let warned = false;

const isRoot = (): boolean => Deno.uid() === 0;

/** Runs a PostgreSQL program, as `postgres` when this process is root (initdb refuses root). */
async function pgRun(bin: string, args: string[], check = true): Promise<string> {
  const cmd = isRoot()
    ? new Deno.Command("runuser", { args: ["-u", "postgres", "--", bin, ...args], stdin: "null" })
    : new Deno.Command(bin, { args, stdin: "null" });
  const o = await cmd.output();
  const text = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
  if (check && !o.success) throw new Error(`${bin} ${args.join(" ")}: ${text}`);
  return text;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

let shared: Promise<PgCluster> | null = null;
let dbs = 0;

/**
 * The process's throwaway cluster, started on first use.
 *
 * @returns The cluster.
 */
export function pgCluster(): Promise<PgCluster> {
  shared ??= startCluster();
  return shared;
}

async function startCluster(): Promise<PgCluster> {
  const bin = pgBin();
  if (bin === null) throw new Error("PostgreSQL is not installed");
  const dir = await Deno.makeTempDir({ prefix: "facecluster_pg_" });
  if (isRoot()) {
    const pw = new TextDecoder().decode(
      (await new Deno.Command("id", {
        args: ["-u", "postgres"],
      }).output()).stdout,
    ).trim();
    await Deno.chown(dir, Number(pw), null);
  }
  const data = `${dir}/data`;
  await pgRun(`${bin}/initdb`, [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "--no-sync",
    "-E",
    "UTF8",
    "--locale=C",
  ]);
  const port = freePort();
  const opts =
    `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  const start = () =>
    pgRun(`${bin}/pg_ctl`, ["-D", data, "-o", opts, "-l", `${dir}/log`, "-w", "start"]).then(
      () => {},
    );
  const stopSync = () => {
    const args = ["-D", data, "-m", "immediate", "stop"];
    try {
      (isRoot()
        ? new Deno.Command("runuser", { args: ["-u", "postgres", "--", `${bin}/pg_ctl`, ...args] })
        : new Deno.Command(`${bin}/pg_ctl`, { args })).outputSync();
    } catch { /* already stopped */ }
  };
  await start();
  globalThis.addEventListener("unload", () => {
    stopSync();
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* gone */ }
  });
  const url = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  return {
    port,
    dir,
    url,
    async createDb(name?: string): Promise<string> {
      const db = name ?? `t${Deno.pid}_${++dbs}`;
      await pgRun("/usr/bin/psql", [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        "postgres",
        "-q",
        "-c",
        `CREATE DATABASE ${db}`,
      ]);
      return url(db);
    },
    async stop(): Promise<void> {
      await pgRun(`${bin}/pg_ctl`, ["-D", data, "-m", "fast", "-w", "stop"]);
    },
    start,
  };
}
