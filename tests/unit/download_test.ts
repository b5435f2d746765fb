import { fetchRemoteFile, type RemoteFile } from "../../lib/embed/download.ts";
import { sha256Hex } from "../../lib/io/hash.ts";
import { assert, assertEquals, assertRejectsInput, hasShared, SHARED } from "../shared.ts";

/** A local server: /good/NAME, /corrupt/NAME, /cut/NAME (breaks off the first time), 404 else. */
function serve(files: Map<string, Uint8Array<ArrayBuffer>>) {
  const log: { path: string; range: string | null }[] = [];
  const cutOnce = new Set<string>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    const [, kind, name] = url.pathname.split("/");
    const range = req.headers.get("range");
    log.push({ path: url.pathname, range });
    let body = files.get(name);
    if (!body || !["good", "corrupt", "cut"].includes(kind)) {
      return new Response("no", { status: 404 });
    }
    if (kind === "corrupt") {
      body = body.slice();
      body[body.length >> 1] ^= 0xff;
    }
    let start = 0;
    if (range) start = Number(/bytes=(\d+)-/.exec(range)![1]);
    const part = body.subarray(start);
    if (kind === "cut" && !cutOnce.has(name)) {
      cutOnce.add(name);
      const half = part.subarray(0, part.length >> 1);
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(half);
          setTimeout(() => c.error(new Error("connection cut")), 20);
        },
      });
      return new Response(stream, {
        status: 200,
        headers: { "content-length": String(part.length) },
      });
    }
    return new Response(part.slice(), {
      status: start > 0 ? 206 : 200,
      headers: start > 0
        ? { "content-range": `bytes ${start}-${body.length - 1}/${body.length}` }
        : {},
    });
  });
  const port = (server.addr as Deno.NetAddr).port;
  return { base: `http://127.0.0.1:${port}`, log, close: () => server.shutdown() };
}

const rejects = assertRejectsInput;

Deno.test("download: corrupt copy, 404, connection cut mid-file, no server", async () => {
  const data = new Uint8Array(300_000).map((_, i) => (i * 2654435761) >>> 24);
  const srv = serve(new Map([["m.bin", data]]));
  const dir = await Deno.makeTempDir();
  const file = (kind: string): RemoteFile => ({
    name: "m.bin",
    url: `${srv.base}/${kind}/m.bin`,
    sha256: "",
    size: data.length,
  });
  const sha = await sha256Hex(data);
  try {
    await rejects(fetchRemoteFile({ ...file("corrupt"), sha256: sha }, dir), "wrong file");
    assertEquals(
      (await Array.fromAsync(Deno.readDir(dir))).length,
      0,
      "a corrupt download left a file",
    );
    await rejects(fetchRemoteFile({ ...file("nothing"), sha256: sha }, dir), "HTTP 404");
    // cut: the first response breaks off half-way; the next attempt resumes with a range
    const path = await fetchRemoteFile({ ...file("cut"), sha256: sha }, dir);
    assertEquals(await sha256Hex(await Deno.readFile(path)), sha);
    const cuts = srv.log.filter((l) => l.path === "/cut/m.bin");
    assertEquals(cuts.length, 2);
    assert(cuts[1].range !== null && cuts[1].range.startsWith("bytes="), "no resume");
    assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), ["m.bin"]);
    // cached: no request at all
    const before = srv.log.length;
    await fetchRemoteFile({ ...file("good"), sha256: sha }, dir);
    assertEquals(srv.log.length, before);
  } finally {
    await srv.close();
  }
  // nothing listening any more
  await rejects(
    fetchRemoteFile({ ...file("good"), name: "other.bin", sha256: sha }, dir, { attempts: 2 }),
    "cannot reach",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "download: MobileFaceNet served from ../shared/models over 127.0.0.1, sha256 checked",
  ignore: !hasShared("models/mobilefacenet_foamliu"),
  fn: async () => {
    const names = ["MobileFaceNet.onnx", "MobileFaceNet.onnx.data"];
    const want: Record<string, string> = {
      "MobileFaceNet.onnx": "b7120c095d60094f28a4a54ba6a8bf51b297a6273fb40ef6350dfec1f63d9507",
      "MobileFaceNet.onnx.data": "0b6400e57e9973bed03816c500eb0c2819c623634cf5ea005e6508e95af883f6",
    };
    const files = new Map<string, Uint8Array<ArrayBuffer>>();
    for (const n of names) {
      files.set(n, await Deno.readFile(`${SHARED}models/mobilefacenet_foamliu/${n}`));
    }
    const srv = serve(files);
    const dir = await Deno.makeTempDir();
    try {
      for (const n of names) {
        const p = await fetchRemoteFile(
          { name: n, url: `${srv.base}/good/${n}`, sha256: want[n], size: files.get(n)!.length },
          dir,
        );
        assertEquals(await sha256Hex(await Deno.readFile(p)), want[n]);
      }
    } finally {
      await srv.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
