/**
 * Where the shared test data lives (`../shared` beside the repository) and whether it is
 * there; tests that need it are ignored with a message when it is absent.
 *
 * @module
 */

import { InputError } from "../lib/errors.ts";

/** Absolute path of `../shared` relative to the repository root. */
export const SHARED: string = new URL("../../shared/", import.meta.url).pathname;

/**
 * Whether a path exists.
 *
 * @param path The path.
 * @returns True when it does.
 */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `../shared/<rel>` exists; prints a skip notice once per missing path if not.
 *
 * @param rel Path below `../shared`.
 * @returns True when present.
 */
export function hasShared(rel: string): boolean {
  const ok = exists(SHARED + rel);
  if (!ok) {
    console.warn(
      `SKIP: ${SHARED}${rel} is absent (a clone without ../shared); tests using it are ignored`,
    );
  }
  return ok;
}

/**
 * Reads a `source target weight` link list.
 *
 * @param path The file.
 * @returns The links as arrays.
 */
export async function readLinkList(
  path: string,
): Promise<{ source: Int32Array; target: Int32Array; weight: Float64Array }> {
  const text = await Deno.readTextFile(path);
  const s: number[] = [], t: number[] = [], w: number[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const p = line.trim().split(/\s+/);
    if (p.length < 2) continue;
    s.push(Number(p[0]));
    t.push(Number(p[1]));
    w.push(p.length > 2 ? Number(p[2]) : 1);
  }
  return { source: Int32Array.from(s), target: Int32Array.from(t), weight: Float64Array.from(w) };
}

/**
 * Asserts that `p` rejects with an InputError whose message contains `includes`.
 *
 * @param p The promise.
 * @param includes Text the message must contain.
 */
export async function assertRejectsInput(p: Promise<unknown>, includes: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert(e instanceof InputError, `expected InputError, got ${e}`);
    assert(e.message.includes(includes), `'${e.message}' lacks '${includes}'`);
    return;
  }
  throw new Error(`expected an error with '${includes}'`);
}

/** Minimal assertion helpers (jsr:@std/assert is unreachable here). */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/**
 * Asserts `a === b` (or deep equality by JSON for objects).
 *
 * @param a Actual.
 * @param b Expected.
 * @param msg Message prefix.
 */
export function assertEquals(a: unknown, b: unknown, msg = ""): void {
  const sa = JSON.stringify(a), sb = JSON.stringify(b);
  if (sa !== sb) throw new Error(`${msg} expected ${sb}, got ${sa}`);
}

/**
 * Asserts |a − b| ≤ tol.
 *
 * @param a Actual.
 * @param b Expected.
 * @param tol Tolerance.
 * @param msg Message prefix.
 */
export function assertClose(a: number, b: number, tol: number, msg = ""): void {
  if (!(Math.abs(a - b) <= tol)) throw new Error(`${msg} expected ${b} ± ${tol}, got ${a}`);
}

/**
 * Runs `cli.ts` with `args` in a new process and collects its exit code and output.
 *
 * @param args Arguments after `cli.ts`.
 * @param env Extra environment variables.
 * @returns Exit code, stdout and stderr.
 */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../cli.ts", import.meta.url).pathname, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Runs the main job on a labeled folder with `--evaluate --json --force` into `out` and
 * parses its JSON summary (a failed run is an assertion error with its stderr).
 *
 * @param input The labeled photo folder.
 * @param out The output folder.
 * @param extra More arguments.
 * @param env Extra environment variables.
 * @returns The process's output and the parsed summary.
 */
export async function runEvaluate(
  input: string,
  out: string,
  extra: string[] = [],
  env: Record<string, string> = {},
  // deno-lint-ignore no-explicit-any -- the CLI's JSON summary
): Promise<{ code: number; stdout: string; stderr: string; json: any }> {
  const r = await runCli([input, "--out", out, "--force", "--evaluate", "--json", ...extra], env);
  assertEquals(r.code, 0, r.stderr);
  return { ...r, json: JSON.parse(r.stdout) };
}

/**
 * A model cache filled by facecluster's own download code (`models fetch`) from a server on
 * 127.0.0.1 that serves `../shared/models` (YuNet and MobileFaceNet), as a user's machine
 * fetches them from their public addresses. Call `close()` when done.
 *
 * @param names The models to fetch. @default ["yunet", "mobilefacenet"]
 * @returns The cache folder, the mirror's address and a function that stops the server and
 *   removes the cache.
 */
export async function sharedModelCache(
  names: string[] = ["yunet", "mobilefacenet"],
): Promise<{ cache: string; mirror: string; close: () => Promise<void> }> {
  const dirs = ["yunet_libfacedetection", "mobilefacenet_foamliu"].map((d) =>
    `${SHARED}models/${d}`
  );
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const name = new URL(req.url).pathname.slice(1);
    for (const d of dirs) {
      if (!/^[\w.-]+$/.test(name)) break;
      try {
        return new Response(await Deno.readFile(`${d}/${name}`));
      } catch { /* not in this folder */ }
    }
    return new Response("no", { status: 404 });
  });
  const mirror = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  const cache = await Deno.makeTempDir();
  for (const n of names) {
    const r = await runCli(["models", "fetch", n, "--cache", cache], {
      FACECLUSTER_MODEL_MIRROR: mirror,
    });
    assertEquals(r.code, 0, r.stderr);
  }
  return {
    cache,
    mirror,
    close: async () => {
      await server.shutdown();
      await Deno.remove(cache, { recursive: true });
    },
  };
}

/**
 * The photos of a labeled ../shared/faces set in file order, as `person/file`.
 *
 * @param set The set, e.g. "lfw_min10".
 * @returns Its photos.
 */
export function sharedPhotos(set: string): string[] {
  const root = `${SHARED}faces/${set}`;
  return [...Deno.readDirSync(root)].map((e) => e.name).sort().flatMap((who) =>
    [...Deno.readDirSync(`${root}/${who}`)].map((e) => `${who}/${e.name}`).sort()
  );
}

/**
 * Links photos of a ../shared/faces set into `dest` (symbolic links: nothing is copied).
 *
 * @param set The set.
 * @param files Its photos, as `person/file`.
 * @param dest The folder to link them into.
 */
export async function linkSharedPhotos(set: string, files: string[], dest: string): Promise<void> {
  for (const f of files) {
    await Deno.mkdir(`${dest}/${f.slice(0, f.indexOf("/"))}`, { recursive: true });
    await Deno.symlink(`${SHARED}faces/${set}/${f}`, `${dest}/${f}`);
  }
}

/**
 * Runs the main job (`PHOTOS_DIR --out OUT --quiet --json …`), asserts that it succeeded and
 * returns its JSON summary.
 *
 * @param input The photos.
 * @param out The output folder.
 * @param extra More arguments (e.g. `--crops`, `--cache DIR`).
 * @returns The summary.
 */
// deno-lint-ignore no-explicit-any -- the CLI's JSON summary
export async function runMain(input: string, out: string, extra: string[] = []): Promise<any> {
  const r = await runCli([input, "--out", out, "--quiet", "--json", ...extra]);
  assertEquals(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Whether ../shared/models holds the two downloaded models (YuNet and MobileFaceNet). */
export const SHARED_MODELS: boolean = hasShared("models/yunet_libfacedetection") &&
  hasShared("models/mobilefacenet_foamliu");

/**
 * Runs `fn` with a model cache fetched from ../shared/models (see {@link sharedModelCache})
 * and a temporary folder, both removed after.
 *
 * @param fn The test body, given the cache and the folder.
 */
export async function withSharedModels(
  fn: (cache: string, root: string) => Promise<void>,
): Promise<void> {
  const models = await sharedModelCache();
  const root = await Deno.makeTempDir();
  try {
    await fn(models.cache, root);
  } finally {
    await models.close();
    await Deno.remove(root, { recursive: true });
  }
}
