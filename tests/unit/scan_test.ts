import { HIDDEN_FOLDER, scanFolder } from "../../lib/scan/scan.ts";
import { encodePng, encodePnm, patternImage } from "../image_fixtures.ts";
import { assertEquals } from "../shared.ts";

Deno.test("scan: stable order, bytes decide, hidden files taken, hidden folders and problems listed", async () => {
  const root = await Deno.makeTempDir();
  const png = await encodePng(patternImage(3, 2));
  await Deno.mkdir(`${root}/bob/sub`, { recursive: true });
  await Deno.mkdir(`${root}/alice`);
  await Deno.mkdir(`${root}/.cache`);
  await Deno.mkdir(`${root}/out`);
  await Deno.writeFile(`${root}/alice/b.jpg`, png); // a PNG named .jpg
  await Deno.writeFile(`${root}/alice/a.pgm`, encodePnm(patternImage(3, 2), "P5"));
  await Deno.writeFile(`${root}/bob/sub/x.png`, png);
  await Deno.writeFile(`${root}/bob/notes.jpg`, new TextEncoder().encode("not a picture"));
  await Deno.writeFile(`${root}/bob/empty.png`, new Uint8Array(0));
  await Deno.writeFile(`${root}/.cache/hidden.png`, png);
  await Deno.writeFile(`${root}/alice/.hidden.png`, png);
  await Deno.writeFile(`${root}/out/result.png`, png);
  await Deno.writeFile(`${root}/top.png`, png);
  await Deno.symlink(`${root}/bob`, `${root}/bob/sub/loop`); // a loop back up
  await Deno.symlink(`${root}/nowhere.png`, `${root}/dangling.png`);
  const { images, skipped } = await scanFolder(root, { exclude: [`${root}/out`] });
  assertEquals(images.map((i) => [i.relative, i.format, i.label]), [
    ["alice/.hidden.png", "png", "alice"],
    ["alice/a.pgm", "pnm", "alice"],
    ["alice/b.jpg", "png", "alice"],
    ["bob/sub/x.png", "png", "bob"],
    ["top.png", "png", null],
  ]);
  assertEquals(skipped.map((s) => [s.path.slice(root.length + 1), s.problem]), [
    [".cache", HIDDEN_FOLDER],
    ["bob/empty.png", "empty file"],
    ["bob/notes.jpg", "not an image"],
    ["bob/sub/loop", "symlink loop (leads back to a folder above it)"],
    ["dangling.png", "broken symbolic link"],
  ]);
  await Deno.remove(root, { recursive: true });
});
