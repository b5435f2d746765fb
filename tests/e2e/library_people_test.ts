// The library end to end through the command line, with the real models (YuNet and
// MobileFaceNet fetched from a 127.0.0.1 mirror of ../shared/models): a user's corrections
// on five_celebrity (names, a merge, moves, "not this person"), re-clustering that never
// undoes one, undo, and the output folders following the people in place.

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

const HAVE = hasShared("faces/five_celebrity") && SHARED_MODELS;

// deno-lint-ignore no-explicit-any -- the CLI's JSON
type Json = any;
interface Face {
  id: number;
  file: string;
  personId: number | null;
  pinned: boolean;
  similarity: number;
}

Deno.test({
  name: "library: corrections on five_celebrity hold through re-clustering; undo; folders in place",
  ignore: !HAVE,
  fn: () =>
    withSharedModels(async (cache, root) => {
      const out = `${root}/out`;
      const cli = async (args: string[]): Promise<Json> => {
        const r = await runCli([...args, "--json"]);
        assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
        return JSON.parse(r.stdout);
      };
      const main = () =>
        cli([
          `${SHARED}faces/five_celebrity`,
          "--out",
          out,
          "--evaluate",
          "--quiet",
          "--cache",
          cache,
        ]);
      const label = (f: Face) => f.file.split("/")[0];
      const allFaces = async (): Promise<Face[]> => {
        const people: Json[] = await cli(["people", out]);
        const faces: Face[] = await cli(["faces", out]); // the faces alone
        for (const p of people) faces.push(...await cli(["faces", out, String(p.id)]));
        return faces;
      };
      const before = await main();
      // a user file in the output folder is never touched
      await Deno.writeTextFile(`${out}/my notes.txt`, "mine");
      // name each person after its photos' folder; a second person of the same folder is
      // merged into the first; faces alone are moved to their person
      const faces = await allFaces();
      const byPerson = new Map<number, Face[]>();
      for (const f of faces) {
        if (f.personId !== null) byPerson.set(f.personId, [...(byPerson.get(f.personId) ?? []), f]);
      }
      const named = new Map<string, number>();
      const merges: [number, number][] = [];
      for (const [id, list] of [...byPerson].sort((a, b) => b[1].length - a[1].length)) {
        const l = label(list[0]);
        if (!named.has(l)) {
          await cli(["name", out, String(id), l]);
          named.set(l, id);
        } else {
          await cli(["merge", out, String(named.get(l)), String(id)]);
          merges.push([named.get(l)!, id]);
        }
      }
      const lone = faces.filter((f) => f.personId === null && named.has(label(f)));
      for (const f of lone) await cli(["move", out, String(f.id), "--to", label(f)]);
      // one face of the largest person is "not this person"
      const [big] = [...byPerson].sort((a, b) => b[1].length - a[1].length);
      const notHer = big[1].filter((f) => !f.pinned).at(-1)!;
      await cli(["not-person", out, String(notHer.id)]);
      const decided = await cli(["history", out]);
      assertEquals(decided.length, named.size + merges.length + lone.length + 1);
      // re-clustering keeps every decision
      const after = await main();
      const now = await allFaces();
      const personOf = new Map(now.map((f) => [f.id, f.personId]));
      const people: Json[] = await cli(["people", out]);
      for (const [l, id] of named) {
        const p = people.find((x) => x.id === id);
        assertEquals(p?.name, l, `person ${id} keeps its name`);
        for (const f of byPerson.get(id)!.filter((f) => f.id !== notHer.id)) {
          assertEquals(personOf.get(f.id), id, `face ${f.id} stays with ${l}`);
        }
      }
      for (const [into, from] of merges) {
        for (const f of byPerson.get(from)!) assertEquals(personOf.get(f.id), into, "merged");
        assert(!people.some((p) => p.id === from), `person ${from} is merged away`);
      }
      for (const f of lone) assertEquals(personOf.get(f.id), named.get(label(f)), "moved");
      assert(personOf.get(notHer.id) !== big[0], "not this person: it did not rejoin");
      // no person holds two faces of one photo, unless the user put them all there
      const groups = new Map<string, Face[]>();
      for (const f of now) {
        if (f.personId === null) continue;
        const key = `${f.personId}:${f.file}`;
        groups.set(key, [...(groups.get(key) ?? []), f]);
      }
      for (const [key, list] of groups) {
        assert(list.length === 1 || list.every((f) => f.pinned), `two faces of one photo: ${key}`);
      }
      console.log(
        `five_celebrity BCubed F ${before.metrics.bcubed.f.toFixed(4)} before the corrections, ${
          after.metrics.bcubed.f.toFixed(4)
        } after (${decided.length} decisions); people ${before.people} -> ${after.people}`,
      );
      assert(after.metrics.bcubed.f > before.metrics.bcubed.f, "the corrections help");
      // folders by name, updated in place; the user's file stays
      for (const l of named.keys()) assert((await Deno.stat(`${out}/${l}`)).isDirectory, l);
      assertEquals(await Deno.readTextFile(`${out}/my notes.txt`), "mine");
      const stale = [...Deno.readDirSync(out)].filter((e) => e.name.startsWith("person_"));
      assertEquals(stale.map((e) => e.name), [], "every person is named: no person_ folder left");
      const manifest = JSON.parse(await Deno.readTextFile(`${out}/clusters.json`));
      assertEquals(manifest.decisions.length, decided.length);
      assert(manifest.people.every((p: Json) => p.name !== null), "every person named");
      const html = await Deno.readTextFile(`${out}/report.html`);
      assert(html.includes(`Your decisions (${decided.length})`), "the report lists the decisions");
      assert(html.includes("Since the last run"), "the report says what the run changed");
      for (const l of named.keys()) assert(html.includes(`>${l}<`), `the report names ${l}`);
      // undo the last decision: that face may rejoin its person again
      const undone = await cli(["undo", out]);
      assertEquals(undone.kind, "not_this_person");
      await main();
      const again = new Map((await allFaces()).map((f) => [f.id, f.personId]));
      assertEquals(again.get(notHer.id), big[0], "after undo it is back");
    }),
});

Deno.test({
  name: "library: copies of a photo are one photo — found and clustered once, archived under both",
  ignore: !HAVE || !hasShared("faces/bbt_faceapi"),
  fn: () =>
    withSharedModels(async (cache, root) => {
      // bbt_faceapi twice: every photo also in a second folder of the same person
      const bbt = `${SHARED}faces/bbt_faceapi`;
      await Deno.mkdir(`${root}/in`);
      for (const who of Deno.readDirSync(bbt)) {
        await Deno.symlink(`${bbt}/${who.name}`, `${root}/in/${who.name}`);
        await Deno.symlink(`${bbt}/${who.name}`, `${root}/in/${who.name}_copy`);
      }
      const run = () => runMain(`${root}/in`, `${root}/out`, ["--crops", "--cache", cache]);
      const j = await run();
      assertEquals([j.photos, j.faces, j.people], [80, 40, 8]);
      assertEquals(j.changes.duplicate_photos, 40);
      const m = JSON.parse(await Deno.readTextFile(`${root}/out/clusters.json`));
      assertEquals(m.duplicates.length, 40);
      for (const f of m.faces) {
        const [who, file] = f.file.split("/");
        for (const p of [`${who}__${file}`, `${who}_copy__${file}`]) {
          await Deno.stat(`${root}/out/${f.folder}/${p}`); // both copies placed
        }
      }
      const before = new Map(m.faces.map((f: Json) => [f.id, f.person]));
      // the originals go: their copies take their place, the faces and people stay
      for (const who of Deno.readDirSync(bbt)) await Deno.remove(`${root}/in/${who.name}`);
      const j2 = await run();
      assertEquals([j2.photos, j2.faces, j2.people], [40, 40, 8]);
      const m2 = JSON.parse(await Deno.readTextFile(`${root}/out/clusters.json`));
      for (const f of m2.faces) {
        assertEquals(f.person, before.get(f.id), `face ${f.id}`);
        assert(f.file.split("/")[0].endsWith("_copy"), f.file);
      }
    }),
});
