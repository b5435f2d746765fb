// The report of a real run (bbt_faceapi) opened in headless Chromium: one card per person,
// counts equal to clusters.json, every image loads; a screenshot is kept as a CI artefact.
// Also the contact sheets, the report renderer on its own, and the progress reporter.

import { chromiumPath, openInChromium } from "../chromium.ts";
import { renderReport } from "../../lib/report/report_html.ts";
import { contactSheet } from "../../lib/report/contact_sheet.ts";
import { Progress } from "../../lib/progress/progress.ts";
import { decodeImage } from "../../lib/image/decode.ts";
import { assert, assertEquals, hasShared, runEvaluate, SHARED } from "../shared.ts";

const ARTIFACTS = new URL("../../out/test-artifacts/", import.meta.url).pathname;
const chromium = chromiumPath();

Deno.test({
  name: "report: bbt_faceapi report.html in headless Chromium — cards, counts, images, screenshot",
  ignore: !hasShared("faces/bbt_faceapi") || chromium === null,
  async fn() {
    const out = await Deno.makeTempDir();
    try {
      // stdout is the one JSON summary; progress went to stderr
      const r = await runEvaluate(`${SHARED}faces/bbt_faceapi`, out, ["--model", "dlib"]);
      const j = r.json;
      assertEquals(j.report, `${out}/report.html`);
      assert(r.stderr.includes("faces: 40/40 photos in"), r.stderr);
      const manifest = JSON.parse(await Deno.readTextFile(`${out}/clusters.json`));
      const people = manifest.clusters.filter((c: { size: number }) => c.size >= 2);
      const page = await openInChromium(chromium!, `file://${out}/report.html`);
      try {
        const dom = await page.evaluate<{
          cards: { folder: string; count: number; shown: number }[];
          images: number;
          broken: string[];
          sections: number;
          merges: number;
          firstFace: number;
          screen: number;
          changes: boolean;
        }>(`(async () => {
          const imgs = [...document.images];
          imgs.forEach((i) => (i.loading = "eager"));
          await Promise.all(imgs.map((i) => i.complete ? 0 : new Promise((r) => {
            i.onload = r; i.onerror = r;
          })));
          return {
            cards: [...document.querySelectorAll(".card.person")].map((c) => ({
              folder: c.dataset.folder,
              count: Number(c.dataset.count),
              shown: Number(c.querySelector(".count").textContent),
            })),
            images: imgs.length,
            broken: imgs.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.src),
            sections: document.querySelectorAll("section.person-faces").length,
            merges: document.querySelectorAll("#evaluation table").length,
            firstFace: document.querySelector(".card.person img").getBoundingClientRect().top,
            screen: window.innerHeight,
            changes: document.querySelector("#changes") !== null,
          };
        })()`);
        await Deno.mkdir(ARTIFACTS, { recursive: true });
        const shot = `${ARTIFACTS}report_bbt_faceapi.png`;
        await page.screenshot(shot);
        console.log(`screenshot of the report: ${shot}`);
        assertEquals(dom.cards.length, people.length);
        for (const c of people) {
          const card = dom.cards.find((x) => x.folder === c.folder);
          assert(card, `no card for ${c.folder}`);
          assertEquals([card.count, card.shown], [c.size, c.size], c.folder);
        }
        assertEquals(dom.sections, people.length);
        assert(dom.images >= manifest.faces.length, `${dom.images} images`);
        assertEquals(dom.broken, []);
        assert(dom.merges >= 1, "evaluation tables");
        // the first screen shows faces; a first run has no "Since the last run"
        assert(dom.firstFace < dom.screen, `first face at ${dom.firstFace} of ${dom.screen}`);
        assert(!dom.changes, "no 'Since the last run' after a first run");
        assert((await Deno.stat(shot)).size > 10000, "screenshot too small");
      } finally {
        await page.close();
      }
      // contact sheets and overview are real PNGs of the right grid size
      for (const c of people) {
        const png = await decodeImage(
          await Deno.readFile(`${out}/${c.folder}/contact_sheet.png`),
          "",
        );
        const cols = Math.min(10, c.size);
        assertEquals([png.width, png.height], [4 + cols * 100, 4 + Math.ceil(c.size / cols) * 100]);
      }
      const overview = await decodeImage(await Deno.readFile(`${out}/overview.png`), "");
      assertEquals(overview.width, 4 + Math.min(12, people.length) * 84);
      // a second run has a last run: its changes come after the people
      await runEvaluate(`${SHARED}faces/bbt_faceapi`, out, ["--model", "dlib"]);
      const html = await Deno.readTextFile(`${out}/report.html`);
      assert(html.includes('id="changes"'), "'Since the last run' after a second run");
      assert(html.indexOf('id="people"') < html.indexOf('id="changes"'), "people first");
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("report: renderer escapes names, lists failures, ranks merges and splits", () => {
  const face = (id: number, folder: string, cluster: number, label: string) => ({
    id,
    file: `${label}/<${id}>.jpg`,
    folder,
    cluster,
    similarity: 1 - id / 100,
    score: 0.9,
    label,
  });
  const html = renderReport({
    input: "in<put>",
    model: { name: "dlib", dims: 128 },
    k: 80,
    min_sim: 0.94,
    photos: 9,
    faces: [
      face(0, "person_001", 0, "ann"),
      face(1, "person_001", 0, "ann"),
      face(2, "person_001", 0, "bob"),
      face(3, "person_002", 1, "bob"),
      face(4, "person_002", 1, "bob"),
      face(5, "unclustered", 2, "ann"),
    ],
    clusters: [
      { id: 0, size: 3, folder: "person_001" },
      { id: 1, size: 2, folder: "person_002" },
      { id: 2, size: 1, folder: "unclustered" },
    ],
    failed: [{ file: "bad&.jpg", error: "not a JPEG" }],
    without_faces: [],
    skipped: [],
    seconds: { detect: 1.5 },
    metrics: {
      pairwise: { precision: 0.5, recall: 0.5, f: 0.5 },
      bcubed: { precision: 0.5, recall: 0.5, f: 0.5 },
      nmi: 0.5,
    },
  });
  assert(html.includes("in&#60;put&#62;") && !html.includes("<put>"), "escaped");
  assert(html.includes("bad&#38;.jpg") && html.includes("not a JPEG"), "failures listed");
  assertEquals((html.match(/class="card person"/g) ?? []).length, 2);
  assert(/person_001<\/a><\/td><td>3<\/td><td>1<\/td><td>ann ×2, bob ×1/.test(html), "merge row");
  assert(/<td>ann<\/td><td>3<\/td><td>1<\/td>/.test(html), "ann split once (face alone)");
  assert(html.includes("true: bob ×2"), "pure person shows its identity");
});

Deno.test("contact sheet: tiles laid out in rows, each chip scaled into its tile", () => {
  const red = { width: 10, height: 10, data: new Uint8Array(300).fill(0) };
  for (let i = 0; i < 100; i++) red.data[i * 3] = 255;
  const sheet = contactSheet([red, red, red], { tile: 8, columns: 2, gap: 2, background: 7 });
  assertEquals([sheet.width, sheet.height], [22, 22]);
  const px = (
    x: number,
    y: number,
  ) => [...sheet.data.subarray((y * 22 + x) * 3, (y * 22 + x) * 3 + 3)];
  assertEquals(px(0, 0), [7, 7, 7]);
  assertEquals(px(3, 3), [255, 0, 0]);
  assertEquals(px(15, 15), [7, 7, 7]); // no fourth tile
});

Deno.test("progress: TTY bar with rate and time left; plain lines elsewhere; stage lines", () => {
  let t = 0;
  const tty: string[] = [];
  const p = new Progress({ tty: true, write: (s) => tty.push(s), now: () => t, width: 10 });
  p.update("faces", 0, 100);
  t = 10000;
  p.update("faces", 50, 100);
  assert(tty.at(-1)!.includes("[#####.....] faces: 50/100 photos (5.0/s, 0:10 left)"), tty.at(-1));
  t = 20000;
  p.update("faces", 100, 100);
  p.update("knn", 0, 100);
  assert(tty.some((s) => s.includes("faces: 100/100 photos in 20.0 s (5.0/s)\n")), tty.join("|"));
  const plain: string[] = [];
  t = 0;
  const q = new Progress({ tty: false, write: (s) => plain.push(s), now: () => t, lineEvery: 5 });
  for (let i = 0; i <= 100; i++) {
    t = i * 200; // 20 s in all: a line every 5 s, then the final one
    q.update("faces", i, 100);
  }
  q.end();
  assert(plain.every((s) => !s.includes("\r") && s.endsWith("\n")), "no redraws");
  assertEquals(plain.length, 4, plain.join(""));
  assert(plain.at(-1)!.startsWith("faces: 100/100 photos in 20.0 s"), plain.at(-1));
});
