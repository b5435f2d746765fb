// Stable people on lfw_min10: a library of the first 90% of the photos (file order), named
// and corrected by the user, then the last 10% added: at least 99% of the first run's faces
// keep their person id, and every named person keeps its name and the faces put there.

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

const HAVE = hasShared("faces/lfw_min10") && SHARED_MODELS;

// deno-lint-ignore no-explicit-any -- the CLI's JSON
type Json = any;

Deno.test({
  name: "library: lfw_min10 90% then 10% more — person ids stay, names and user faces kept",
  ignore: !HAVE,
  fn: () =>
    withSharedModels(async (cache, root) => {
      const files = sharedPhotos("lfw_min10");
      const link = (list: string[]) => linkSharedPhotos("lfw_min10", list, `${root}/in`);
      const cut = Math.floor(files.length * 0.9);
      await link(files.slice(0, cut));
      const out = `${root}/out`;
      const cli = async (args: string[]): Promise<Json> => {
        const r = await runCli([...args, "--json"]);
        assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
        return JSON.parse(r.stdout);
      };
      const main = () =>
        cli([`${root}/in`, "--out", out, "--quiet", "--evaluate", "--cache", cache]);
      const faceMap = async () =>
        new Map<number, number | null>(
          JSON.parse(await Deno.readTextFile(`${out}/clusters.json`)).faces.map((
            f: Json,
          ) => [f.id, f.person]),
        );
      const first = await main();
      // the user names the three largest people and moves one face alone into the first
      const people: Json[] = await cli(["people", out]);
      const names = ["Ann", "Bob", "Cy"];
      for (let i = 0; i < 3; i++) await cli(["name", out, String(people[i].id), names[i]]);
      const alone: Json[] = await cli(["faces", out]);
      await cli(["move", out, String(alone[0].id), "--to", "Ann"]);
      const pinned = new Map<number, number>();
      for (let i = 0; i < 3; i++) {
        for (const f of await cli(["faces", out, names[i]])) pinned.set(f.id, people[i].id);
      }
      const before = await faceMap();
      await link(files.slice(cut));
      const second = await main();
      const after = await faceMap();
      let inPerson = 0, kept = 0;
      for (const [id, p] of before) {
        if (p === null) continue;
        inPerson++;
        if (after.get(id) === p) kept++;
      }
      console.log(
        `lfw_min10 ${cut} then ${files.length} photos: ${kept}/${inPerson} faces keep their person id (${
          (100 * kept / inPerson).toFixed(2)
        }%); BCubed F ${first.metrics.bcubed.f.toFixed(4)} -> ${
          second.metrics.bcubed.f.toFixed(4)
        }; ${second.changes.new_people.length} new people; seconds ${
          first.seconds.total.toFixed(1)
        } then ${second.seconds.total.toFixed(1)}`,
      );
      assert(kept / inPerson >= 0.99, `${kept}/${inPerson}`);
      assertEquals(second.changes.new_photos, files.length - cut);
      const now: Json[] = await cli(["people", out]);
      for (let i = 0; i < 3; i++) {
        assertEquals(now.find((p) => p.id === people[i].id)?.name, names[i]);
      }
      for (const [face, p] of pinned) assertEquals(after.get(face), p, `face ${face}`);
      assert(second.metrics.bcubed.f >= 0.99, JSON.stringify(second.metrics));
    }),
});
