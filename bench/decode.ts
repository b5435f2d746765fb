/**
 * Image decoding, side by side in one run: imagescript (what facecluster uses), jpeg-js (pure
 * JavaScript) and sharp (libvips, native), full-size RGB, and sharp with shrink-on-load to at
 * most 1024 pixels a side (the detector looks at 512×512). Inputs: a 12 MP and a 1080p JPEG
 * made from a real photo, and the photos of `five_celebrity` and the first 300 of `lfw_min10`.
 *
 * Run: `deno run -A bench/decode.ts`. Prints Markdown rows (milliseconds per image).
 *
 * @module
 */

import sharp from "sharp";
import jpeg from "jpeg-js";
import { decode, type Image } from "imagescript";

const FACES = new URL("../../shared/faces/", import.meta.url).pathname;

async function files(dir: string, limit = Infinity): Promise<string[]> {
  const out: string[] = [];
  for await (const d of Deno.readDir(dir)) {
    if (!d.isDirectory) continue;
    for await (const f of Deno.readDir(`${dir}/${d.name}`)) out.push(`${dir}/${d.name}/${f.name}`);
  }
  return out.sort().slice(0, limit);
}

async function scaled(src: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const img = (await decode(src)) as Image;
  return await img.resize(width, height).encodeJPEG(90);
}

const lfw = await files(`${FACES}lfw_min10`, 300);
const celeb = await files(`${FACES}five_celebrity`);
const photo = await Deno.readFile(celeb[0]);
const sets: [string, Uint8Array[]][] = [
  ["12 MP JPEG (4000×3000)", [await scaled(photo, 4000, 3000)]],
  ["1080p JPEG (1920×1080)", [await scaled(photo, 1920, 1080)]],
  ["five_celebrity (118 web photos)", await Promise.all(celeb.map((f) => Deno.readFile(f)))],
  ["lfw_min10, first 300 (250×250)", await Promise.all(lfw.map((f) => Deno.readFile(f)))],
];

const decoders: [string, (b: Uint8Array) => Promise<unknown>][] = [
  ["imagescript 1.3.1", (b) => decode(b)],
  [
    "jpeg-js 0.4.4",
    (b) => {
      try {
        return Promise.resolve(jpeg.decode(b, { useTArray: true, maxMemoryUsageInMB: 2048 }));
      } catch (e) {
        return Promise.reject(e);
      }
    },
  ],
  ["sharp 0.35.5 (full size)", (b) => sharp(b).removeAlpha().raw().toBuffer()],
  [
    "sharp 0.35.5 (shrink-on-load, ≤1024)",
    (b) =>
      sharp(b).resize(1024, 1024, {
        fit: "inside",
        withoutEnlargement: true,
        fastShrinkOnLoad: true,
      })
        .removeAlpha().raw().toBuffer(),
  ],
];
console.log(`| input | ${decoders.map((d) => d[0]).join(" | ")} |`);
console.log(`|---|${decoders.map(() => "---").join("|")}|`);
for (const [name, inputs] of sets) {
  const cells: string[] = [];
  for (const [, fn] of decoders) {
    const reps = inputs.length === 1 ? 5 : 1;
    let failed = 0;
    await fn(inputs[0]).catch(() => {}); // warm-up
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) {
      for (const b of inputs) await fn(b).catch(() => failed++);
    }
    const ms = ((performance.now() - t0) / reps / inputs.length).toFixed(2);
    cells.push(failed ? `${ms} (${failed / reps} failed: not JPEG)` : ms);
  }
  console.log(`| ${name} | ${cells.join(" | ")} |`);
}
sharp.cache(false);

// Same faces and embeddings whichever decoder: per photo, face count and cosine of each
// face's embedding (dlib), imagescript against sharp.
const { embedFaces } = await import("../lib/api.ts");
const parity: string[] = [];
for (const [name, paths] of [["five_celebrity", celeb], ["lfw_min10 (first 300)", lfw]] as const) {
  Deno.env.set("FACECLUSTER_DECODER", "imagescript");
  const a = await embedFaces([...paths]);
  Deno.env.delete("FACECLUSTER_DECODER");
  const b = await embedFaces([...paths]);
  const cos: number[] = [];
  let countDiffers = 0;
  for (let img = 0; img < paths.length; img++) {
    const fa = a.faces.flatMap((f, i) => f.image === img ? [i] : []);
    const fb = b.faces.flatMap((f, i) => f.image === img ? [i] : []);
    if (fa.length !== fb.length) {
      countDiffers++;
      continue;
    }
    fa.forEach((ia, j) => {
      let d = 0;
      for (let t = 0; t < a.dims; t++) {
        d += a.vectors[ia * a.dims + t] * b.vectors[fb[j] * b.dims + t];
      }
      cos.push(d);
    });
  }
  cos.sort((x, y) => x - y);
  parity.push(
    `| ${name} | ${paths.length} | ${countDiffers} | ${cos.length} | ${cos[0].toFixed(5)} | ${
      cos[Math.floor(cos.length / 2)].toFixed(6)
    } | ${cos.filter((c) => c < 0.999).length} |`,
  );
}
console.log(
  "\n| set | photos | photos whose face count differs | faces compared | min cosine | median cosine | faces below 0.999 |",
);
console.log("|---|---|---|---|---|---|---|");
for (const r of parity) console.log(r);
