import { encodeNpy } from "../../lib/io/npy.ts";
import { USAGE } from "../../cli.ts";
import { assert, assertEquals, exists, runCli } from "../shared.ts";

const run = runCli;

/** Two tight groups of 3 rows plus one lone row, 4-D. */
function goodFeatures(): Float32Array {
  return new Float32Array([
    1,
    0,
    0,
    0,
    0.99,
    0.1,
    0,
    0,
    0.98,
    0,
    0.1,
    0, //
    0,
    1,
    0,
    0,
    0.1,
    0.99,
    0,
    0,
    0,
    0.98,
    0.1,
    0, //
    0,
    0,
    0,
    1,
  ]);
}

Deno.test("cli: cluster-features writes labels and prints JSON with metrics", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/f.npy`, encodeNpy({ rows: 7, cols: 4, data: goodFeatures() }));
  await Deno.writeTextFile(`${dir}/l.txt`, "a\na\na\nb\nb\nb\nc\n");
  const r = await run([
    "cluster-features",
    `${dir}/f.npy`,
    "--k",
    "4",
    "--min-sim",
    "0.5",
    "--labels",
    `${dir}/l.txt`,
    "--out",
    `${dir}/out.txt`,
    "--json",
  ]);
  assertEquals(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assertEquals([j.n, j.clusters, j.singletons, j.edges], [7, 3, 1, 12]);
  for (const s of ["read", "normalize", "knn", "links", "infomap", "total"]) {
    assert(typeof j.seconds[s] === "number", `seconds.${s}`);
  }
  assertEquals(j.metrics.pairwise, { precision: 1, recall: 1, f: 1 });
  assertEquals(j.metrics.bcubed.f, 1);
  assertEquals(j.metrics.nmi, 1);
  assert(typeof j.codelength === "number");
  const lines = (await Deno.readTextFile(`${dir}/out.txt`)).trim().split("\n");
  assertEquals(lines.length, 7);
  assertEquals(new Set(lines.slice(0, 3)).size, 1);
  assert(lines[0] !== lines[3] && lines[6] !== lines[0]);
  assertEquals((await Array.fromAsync(Deno.readDir(dir))).length, 3, "no temporary files left");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli: bad input is a clear error naming the file, exit ≠ 0, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  const nan = goodFeatures();
  nan[5] = NaN;
  const zero = goodFeatures();
  zero.fill(0, 8, 12);
  const int32 = new Uint8Array(encodeNpy({ rows: 7, cols: 4, data: goodFeatures() }));
  int32[new TextDecoder("latin1").decode(int32.subarray(0, 128)).indexOf("<f4") + 1] = 0x69; // 'i'
  await Deno.writeTextFile(`${dir}/text.npy`, "just some text");
  await Deno.writeFile(`${dir}/nan.npy`, encodeNpy({ rows: 7, cols: 4, data: nan }));
  await Deno.writeFile(`${dir}/zero.npy`, encodeNpy({ rows: 7, cols: 4, data: zero }));
  await Deno.writeFile(`${dir}/int.npy`, int32);
  await Deno.writeFile(`${dir}/ok.npy`, encodeNpy({ rows: 7, cols: 4, data: goodFeatures() }));
  await Deno.writeTextFile(`${dir}/short.txt`, "a\nb\n");
  const out = `${dir}/out.txt`;
  const cases: [string[], string][] = [
    [[`${dir}/text.npy`], `${dir}/text.npy: not a NumPy .npy file`],
    [[`${dir}/nan.npy`], `${dir}/nan.npy: row 1 column 1 is NaN`],
    [[`${dir}/zero.npy`], `${dir}/zero.npy: row 2 is all zeros`],
    [[`${dir}/int.npy`], `${dir}/int.npy: unsupported dtype '<i4'`],
    [[`${dir}/missing.npy`], `${dir}/missing.npy: cannot read`],
    [[`${dir}/ok.npy`, "--labels", `${dir}/short.txt`], `${dir}/short.txt: has 2 labels but`],
    [[`${dir}/ok.npy`, "--k", "0"], "--k: must be ≥ 1"],
    [[`${dir}/ok.npy`, "--min-sim", "1.5"], "--min-sim: must lie in [-1, 1]"],
    [[`${dir}/ok.npy`, "--min-sim", "abc"], "--min-sim: must lie in [-1, 1]"],
  ];
  for (const [args, msg] of cases) {
    const r = await run(["cluster-features", ...args, "--out", out]);
    assert(r.code !== 0, `exit 0 for ${args.join(" ")}`);
    assert(r.stderr.includes(msg), `stderr '${r.stderr.trim()}' lacks '${msg}'`);
    assert(!r.stderr.includes("    at "), `a stack trace for ${args.join(" ")}`);
    assert(!exists(out), `wrote ${out} for ${args.join(" ")}`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli: --help prints the usage; unknown options are refused", async () => {
  const h = await run(["--help"]);
  assertEquals(h.code, 0);
  assertEquals(h.stdout.trim(), USAGE.trim());
  const u = await run(["cluster-features", "x.npy", "--frobnicate"]);
  assert(u.code !== 0 && u.stderr.includes("frobnicate"), u.stderr);
});
