// The review server for real (the page in Chromium on a library file and on PostgreSQL): its security (loopback only, the token, Host and Origin, files
// by id only, bad requests answered with 4xx), two tabs deciding at once, and the page driven
// in Debian's Chromium by playwright-core on a bbt_faceapi library: rename, merge, move,
// reload, re-cluster; screenshots kept as test artefacts.

import { chromium } from "playwright-core";
import { Library } from "../../lib/library/library.ts";
import { startReview } from "../../lib/review/server.ts";
import { pgCluster, postgresSkip } from "../postgres.ts";
import { chromiumPath } from "../chromium.ts";
import {
  assert,
  assertEquals,
  hasShared,
  runCli,
  runMain,
  SHARED,
  SHARED_MODELS,
  withSharedModels,
} from "../shared.ts";

const ARTIFACTS = new URL("../../out/test-artifacts/", import.meta.url).pathname;
const HAVE = hasShared("faces/bbt_faceapi") && SHARED_MODELS;
const BROWSER = chromiumPath();

/**
 * A library of bbt_faceapi (made by the CLI; in the output folder's file, or in a new
 * PostgreSQL database), opened here, and a server over it.
 */
async function withReview(
  fn: (
    s: { url: string; port: number; token: string },
    lib: Library,
    root: string,
  ) => Promise<void>,
  store: "sqlite" | "postgres" = "sqlite",
): Promise<void> {
  await withSharedModels(async (cache, root) => {
    await Deno.mkdir(`${root}/in`);
    for (const who of Deno.readDirSync(`${SHARED}faces/bbt_faceapi`)) {
      await Deno.symlink(`${SHARED}faces/bbt_faceapi/${who.name}`, `${root}/in/${who.name}`);
    }
    const where = store === "sqlite"
      ? `${root}/out/library.db`
      : await (await pgCluster()).createDb();
    const main = () =>
      runMain(`${root}/in`, `${root}/out`, ["--crops", "--cache", cache, "--library", where]);
    await main();
    const lib = await Library.open(where);
    const server = await startReview(lib, {
      input: `${root}/in`,
      recluster: async () => `re-clustered: ${(await main()).people} people`,
    });
    try {
      await fn(server, lib, root);
    } finally {
      await server.close();
      await lib.close();
    }
  });
}

/** One raw HTTP/1.1 request (any Host, any path bytes), its status and body. */
async function raw(
  port: number,
  head: string,
  body = "",
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(head.replaceAll("\n", "\r\n") + "\r\n" + body));
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    const end = text.indexOf("\r\n\r\n");
    const len = /content-length: (\d+)/i.exec(text)?.[1];
    if (end >= 0 && len !== undefined && text.length >= end + 4 + Number(len)) break;
  }
  conn.close();
  const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  return { status: Number(text.split(" ")[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

Deno.test({
  name:
    "review: loopback only, token, Host and Origin, files by id only, 4xx for bad requests, two tabs",
  ignore: !HAVE,
  fn: () =>
    withReview(async (s, lib, root) => {
      // another address is refused unless asked for
      let refused = "";
      try {
        await startReview(lib, { input: `${root}/in`, hostname: "0.0.0.0" });
      } catch (e) {
        refused = (e as Error).message;
      }
      assert(refused.includes("--allow-remote"), refused);
      const base = `http://127.0.0.1:${s.port}`;
      const origin = { origin: base };
      const get = (path: string, t: string | null = s.token) =>
        fetch(`${base}${path}${t === null ? "" : `${path.includes("?") ? "&" : "?"}t=${t}`}`);
      const post = (body: unknown, headers: Record<string, string>) =>
        fetch(`${base}/api/decide`, { method: "POST", headers, body: JSON.stringify(body) });
      const decisions = async () => (await lib.decisions()).length;
      // the token
      assertEquals((await get("/", null)).status, 401);
      assertEquals((await get("/", "wrong")).status, 401);
      const page = await get("/");
      assertEquals(page.status, 200);
      assert((await page.text()).includes("facecluster review"));
      const people = await (await get("/api/people")).json();
      assertEquals(people.total, 8);
      const [p1, p2] = people.people;
      const n0 = await decisions();
      const name = { action: "name", person: p1.id, name: "Eve" };
      for (
        const [headers, status] of [
          [{}, 401], // no token
          [{ "x-facecluster-token": "wrong", ...origin }, 401],
          [{ "x-facecluster-token": s.token }, 403], // no Origin
          [{ "x-facecluster-token": s.token, origin: "http://evil.example" }, 403], // CSRF
        ] as [Record<string, string>, number][]
      ) {
        const r = await post(name, headers);
        assertEquals(r.status, status, JSON.stringify(headers));
        await r.body?.cancel();
      }
      // the token in the address is for GETs; a POST needs it in its header
      const viaQuery = await fetch(`${base}/api/decide?t=${s.token}`, {
        method: "POST",
        headers: origin,
        body: JSON.stringify(name),
      });
      assertEquals(viaQuery.status, 401);
      await viaQuery.body?.cancel();
      assertEquals(await decisions(), n0, "no request without the token changed anything");
      // DNS rebinding: a page of another name that resolves to 127.0.0.1
      const rebound = await raw(
        s.port,
        `GET /api/people?t=${s.token} HTTP/1.1\nHost: evil.example:${s.port}\nConnection: close\n`,
      );
      assertEquals(rebound.status, 403);
      // files only by id: traversal, encoded slashes, the output folder, a symlink in the input
      await Deno.symlink("/etc", `${root}/in/etc`);
      for (
        const path of [
          "/face/../../etc/passwd",
          "/face/..%2f..%2fetc%2fpasswd",
          "/photo/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
          "/photo/etc/passwd",
          "/library.db",
          "/clusters.json",
          "/face/99999",
          "/photo/99999",
          "/face/-1",
          "/face/1.png",
        ]
      ) {
        const r = await raw(
          s.port,
          `GET ${path}?t=${s.token} HTTP/1.1\nHost: 127.0.0.1:${s.port}\nConnection: close\n`,
        );
        assert(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
        assert(!r.body.includes("root:"), `${path} served /etc/passwd`);
      }
      const face = (await (await get(`/api/person/${p1.id}`)).json()).faces[0];
      const chip = await get(`/face/${face.id}`);
      // chips are stored as JPEG: the bytes are one, and say so
      assertEquals([chip.status, chip.headers.get("content-type")], [200, "image/jpeg"]);
      const bytes = new Uint8Array(await chip.arrayBuffer());
      assertEquals([bytes[0], bytes[1], bytes[bytes.length - 2], bytes[bytes.length - 1]], [
        0xff,
        0xd8,
        0xff,
        0xd9,
      ]);
      const photo = await get(`/photo/${face.id}`);
      assertEquals(photo.status, 200);
      await photo.body?.cancel();
      // bad ids and bodies: 4xx with a message, and the server goes on
      for (
        const [body, status] of [
          ["{not json", 400],
          [JSON.stringify({ action: "bogus" }), 400],
          [JSON.stringify({ action: "merge", into: "nobody", others: [p2.id] }), 400],
          [JSON.stringify({ action: "move", faces: "1", to: p1.id }), 400],
          [JSON.stringify({ action: "move", faces: [99999], to: p1.id }), 400],
          [JSON.stringify({ action: "name", person: p1.id, name: "" }), 400],
          [JSON.stringify([1, 2]), 400],
        ] as [string, number][]
      ) {
        const r = await fetch(`${base}/api/decide`, {
          method: "POST",
          headers: { "x-facecluster-token": s.token, ...origin },
          body,
        });
        const j = await r.json();
        assertEquals(r.status, status, body);
        assert(typeof j.error === "string" && j.error.length > 0, body);
      }
      for (const path of ["/api/person/abc", "/api/person/99999", "/nothing"]) {
        const r = await get(path);
        assertEquals(r.status, 404, path);
        assert((await r.json()).error);
      }
      assertEquals(await decisions(), n0);
      // bodies are capped at 64 KB: a 10 MB one is refused with 413 without being read, and
      // so is one sent in chunks with no length given
      const big = JSON.stringify({ action: "name", person: p1.id, name: "x".repeat(10 << 20) });
      const huge = await post(JSON.parse(big), { "x-facecluster-token": s.token, ...origin });
      assertEquals(huge.status, 413);
      assert((await huge.json()).error.includes("65536"));
      const chunked = await raw(
        s.port,
        `POST /api/decide HTTP/1.1\nHost: 127.0.0.1:${s.port}\nOrigin: ${base}\nx-facecluster-token: ${s.token}\ncontent-type: application/json\ntransfer-encoding: chunked\nconnection: close\n`,
        Array.from({ length: 5 }, () => `4000\r\n${"y".repeat(0x4000)}\r\n`).join("") +
          "0\r\n\r\n",
      );
      assertEquals(chunked.status, 413, chunked.body);
      assertEquals(await decisions(), n0);
      // a port in use: a clear error, from the library and from the command line
      let inUse = "";
      try {
        await startReview(lib, { input: `${root}/in`, port: s.port });
      } catch (e) {
        inUse = (e as Error).message;
      }
      assert(inUse.includes(`port ${s.port}: already in use`), inUse);
      const cliInUse = await runCli(["review", `${root}/out`, "--port", String(s.port)]);
      assertEquals(cliInUse.code, 1, cliInUse.stderr);
      assert(cliInUse.stderr.includes("already in use") && !cliInUse.stderr.includes("    at "));
      // another process writing the library: a decision waits, then 409 naming it
      const holder = new Deno.Command("sleep", { args: ["30"] }).spawn();
      try {
        await lib.store.lock(holder.pid);
        const busy = await post(name, { "x-facecluster-token": s.token, ...origin });
        assertEquals(busy.status, 409);
        assert((await busy.json()).error.includes(`process ${holder.pid}`));
        assertEquals(await decisions(), n0);
      } finally {
        await lib.store.unlock(holder.pid);
        holder.kill();
        await holder.status;
      }
      // two tabs at once: every decision kept
      const faces = (await (await get(`/api/person/${p2.id}`)).json()).faces;
      const tabs = await Promise.all([
        ...people.people.slice(2, 6).map((p: { id: number }, i: number) =>
          post({ action: "name", person: p.id, name: `Tab ${i}` }, {
            "x-facecluster-token": s.token,
            ...origin,
          })
        ),
        ...faces.slice(0, 2).map((f: { id: number }) =>
          post({ action: "move", faces: [f.id], to: p1.id }, {
            "x-facecluster-token": s.token,
            ...origin,
          })
        ),
      ]);
      for (const r of tabs) assertEquals(r.status, 200, await r.text());
      assertEquals(await decisions(), n0 + 6);
      const now = await lib.faces();
      for (const f of faces.slice(0, 2)) {
        assertEquals(now.find((x) => x.id === f.id)!.personId, p1.id);
      }
    }),
});

for (const store of ["sqlite", "postgres"] as const) {
  Deno.test({
    name:
      `review: the page in Chromium — rename, merge, move, reload, re-cluster; timings [${store}]`,
    ignore: !HAVE || BROWSER === null || (store === "postgres" && postgresSkip() !== null),
    fn: () =>
      withReview(async (s, lib, root) => {
        const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
        const ctx = await chromium.launchPersistentContext(profile, {
          executablePath: BROWSER!,
          headless: true,
          bypassCSP: true, // the page's CSP forbids eval, which waitForFunction's strings use
          args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
        await Deno.mkdir(ARTIFACTS, { recursive: true });
        try {
          const page = await ctx.newPage();
          /** Opens a view and waits until it is drawn. */
          const open = async (hash: string) => {
            await page.goto(`${s.url}#${hash}`);
            await page.waitForSelector(`body[data-ready="${hash}"]`);
          };
          const errors: string[] = [];
          page.on("pageerror", (e) => errors.push(e.message));
          const t0 = performance.now();
          await page.goto(s.url);
          await page.waitForSelector(".card.person");
          const peopleMs = performance.now() - t0;
          assertEquals(await page.locator(".card.person").count(), 8);
          await page.screenshot({
            path: `${ARTIFACTS}review_people${store === "sqlite" ? "" : "_pg"}.png`,
          });
          const people = await lib.people();
          const [a, b, c, d] = people;
          // rename (keyboard: n, type, Enter)
          const t1 = performance.now();
          await page.click(`.card.person[data-person="${a.id}"]`);
          await page.waitForSelector(".card.face");
          const personMs = performance.now() - t1;
          await page.keyboard.press("n");
          await page.keyboard.type("Penny");
          await page.keyboard.press("Enter");
          await page.waitForFunction(
            `document.querySelector("#title")?.textContent?.startsWith("Penny")`,
          );
          // split two faces off Penny, then accept the page's suggestion ("Penny?") for the new
          // person: one click brings them back
          await page.locator(".card.face").nth(0).click();
          await page.locator(".card.face").nth(1).click();
          await page.keyboard.press("s");
          await page.waitForFunction(
            `/a new person/.test(document.querySelector("#status")?.textContent ?? "")`,
          );
          const splitOff = (await lib.people()).find((p) => p.name === null && p.faces === 2)!;
          await open(`person/${splitOff.id}`);
          await page.click(".accept");
          await page.waitForSelector(`body[data-ready="person/${a.id}"]`);
          assertEquals((await lib.people()).find((p) => p.id === a.id)!.faces, a.faces);
          // merge b into Penny
          await open(`person/${b.id}`);
          await page.fill("#target", "Penny");
          await page.click("#do-merge");
          await page.waitForFunction(`location.hash === "#people"`);
          await page.waitForSelector(".card.person");
          assertEquals(await page.locator(".card.person").count(), 7);
          // move one face of c to d (select it, m, type d's id, Enter)
          await open(`person/${c.id}`);
          const moved = Number(await page.locator(".card.face").first().getAttribute("data-face"));
          await page.locator(".card.face").first().click();
          await page.keyboard.press("m");
          await page.keyboard.type(String(d.id));
          await page.keyboard.press("Enter");
          await page.waitForFunction(
            `/→ person/.test(document.querySelector("#status")?.textContent ?? "")`,
          );
          await page.screenshot({
            path: `${ARTIFACTS}review_person${store === "sqlite" ? "" : "_pg"}.png`,
          });
          // reload: kept
          await page.goto(`${s.url}#people`);
          await page.reload();
          await page.waitForSelector(".card.person");
          assertEquals(await page.locator(".card.person").count(), 7);
          assert((await page.textContent("#main"))!.includes("Penny"), "the name is kept");
          // search by name
          await page.fill("#search", "pen");
          await page.press("#search", "Enter");
          await page.waitForFunction(`document.querySelectorAll(".card.person").length === 1`);
          // re-cluster from the page: the decisions hold
          await page.click("#recluster");
          await page.waitForFunction(
            `/re-clustered/.test(document.querySelector("#status")?.textContent ?? "")`,
            null,
            { timeout: 60000 },
          );
          const after = await lib.faces();
          const penny = (await lib.people()).find((p) => p.name === "Penny")!;
          assertEquals(penny.id, a.id);
          assertEquals(penny.faces, a.faces + b.faces);
          assertEquals(after.find((f) => f.id === moved)!.personId, d.id);
          await page.screenshot({
            path: `${ARTIFACTS}review_after_recluster${store === "sqlite" ? "" : "_pg"}.png`,
          });
          // split (click, shift-click, s), not this person (x), not a face (f), undo (u)
          const e = people[4];
          await open(`person/${e.id}`);
          const cards = page.locator(".card.face");
          const ids = await Promise.all(
            [0, 1, 2].map(async (i) => Number(await cards.nth(i).getAttribute("data-face"))),
          );
          await cards.nth(0).click();
          await cards.nth(1).click({ modifiers: ["Shift"] });
          await page.keyboard.press("s");
          await page.waitForFunction(
            `/a new person/.test(document.querySelector("#status")?.textContent ?? "")`,
          );
          await page.waitForSelector(".card.face");
          await page.locator(`.card.face[data-face="${ids[2]}"]`).click();
          await page.keyboard.press("x");
          await page.waitForFunction(
            `/is not person/.test(document.querySelector("#status")?.textContent ?? "")`,
          );
          await open("alone");
          await page.locator(`.card.face[data-face="${ids[2]}"]`).click();
          await page.keyboard.press("f");
          await page.waitForFunction(
            `/not faces/.test(document.querySelector("#status")?.textContent ?? "")`,
          );
          await open("notfaces");
          await page.waitForSelector(`.card.face[data-face="${ids[2]}"]`);
          const byId = new Map((await lib.faces()).map((f) => [f.id, f]));
          assert(byId.get(ids[0])!.personId === byId.get(ids[1])!.personId, "split together");
          assert(byId.get(ids[0])!.personId !== e.id, "split off");
          assert(byId.get(ids[2])!.notFace, "marked not a face");
          await page.keyboard.press("u");
          await page.waitForFunction(
            `/undone/.test(document.querySelector("#status")?.textContent ?? "")`,
          );
          assert(!(await lib.faces()).find((f) => f.id === ids[2])!.notFace, "undone");
          // a server restart: a new token (the old one refused), every decision still there
          const again = await startReview(lib, { input: `${root}/in` });
          try {
            const old = await fetch(`http://127.0.0.1:${again.port}/api/people?t=${s.token}`);
            assertEquals(old.status, 401);
            await old.body?.cancel();
            await page.goto(again.url);
            await page.waitForSelector(".card.person");
            assert((await page.textContent("#main"))!.includes("Penny"), "kept over a restart");
          } finally {
            await again.close();
          }
          assertEquals(errors, []);
          console.log(
            `review page (bbt_faceapi, 40 faces, ${store}): people page ${
              peopleMs.toFixed(0)
            } ms, a person ${personMs.toFixed(0)} ms; screenshots in ${ARTIFACTS}`,
          );
        } finally {
          await ctx.close();
          await Deno.remove(profile, { recursive: true });
        }
      }, store),
  });
}
