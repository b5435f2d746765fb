// The user's decisions keep their meaning through every re-cluster: the move that emptied a
// person (a reproduction on five_celebrity), and the property test: random sequences of
// decisions, re-runs and new photos on three real small libraries (bbt_faceapi,
// five_celebrity, an lfw_min10 subset), with the user's intent checked after every step; the
// same property on a PostgreSQL library.

import { lfwTwelve, propertyOnSet } from "../decision_property.ts";
import { pgCluster, postgresSkip } from "../postgres.ts";
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

// deno-lint-ignore no-explicit-any -- the CLI's JSON
type Json = any;

const cli = async (args: string[]): Promise<Json> => {
  const r = await runCli([...args, "--json"]);
  assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

Deno.test({
  name: "decisions: a face moved into a person joins it; the person keeps its faces and id",
  ignore: !(hasShared("faces/five_celebrity") && SHARED_MODELS),
  fn: () =>
    withSharedModels(async (cache, root) => {
      const files = sharedPhotos("five_celebrity");
      await linkSharedPhotos("five_celebrity", files, `${root}/in`);
      const out = `${root}/out`;
      const main = () => cli([`${root}/in`, "--out", out, "--quiet", "--cache", cache]);
      await main();
      const facesOf = async (id: number): Promise<number[]> =>
        (await cli(["faces", out, String(id)])).map((f: Json) => f.id).sort((
          a: number,
          b: number,
        ) => a - b);
      const [first, second] = await cli(["people", out]);
      // a face of the second person moved into the first (a user's wrong move, as reported),
      // and a face alone moved into the second
      const before1 = await facesOf(first.id), before2 = await facesOf(second.id);
      const moved = before2[0];
      const alone: Json[] = await cli(["faces", out]);
      assert(alone.length > 0, "five_celebrity has faces alone");
      await cli(["move", out, String(moved), "--to", String(first.id)]);
      await cli(["move", out, String(alone[0].id), "--to", String(second.id)]);
      await main();
      assertEquals(await facesOf(first.id), [...before1, moved].sort((a, b) => a - b));
      assertEquals(
        await facesOf(second.id),
        [...before2.slice(1), alone[0].id].sort((a, b) => a - b),
      );
      const people: Json[] = await cli(["people", out]);
      assertEquals(people.length, (await cli(["people", out])).length);
      assert(people.some((p) => p.id === first.id) && people.some((p) => p.id === second.id));
    }),
});

const SETS = ["bbt_faceapi", "five_celebrity", "lfw_min10"];

Deno.test({
  name: "decisions: 330 random steps on three libraries keep the user's intent",
  ignore: !(SETS.every((s) => hasShared(`faces/${s}`)) && SHARED_MODELS),
  fn: () =>
    withSharedModels(async (cache, root) => {
      // onnxruntime-node loads in one isolate of a process only (tests/library_test.ts): the
      // photos added in this process go through the WASM face workers
      const o = { steps: 110, cache, root, log: console.log, inference: "wasm" as const };
      await propertyOnSet("bbt_faceapi", sharedPhotos("bbt_faceapi"), { ...o, seed: 1 });
      await propertyOnSet("five_celebrity", sharedPhotos("five_celebrity"), { ...o, seed: 2 });
      await propertyOnSet("lfw_min10", lfwTwelve(), { ...o, seed: 3 });
    }),
});

Deno.test({
  name: "decisions on PostgreSQL: random steps on two libraries keep the user's intent",
  ignore: !(SETS.every((s) => hasShared(`faces/${s}`)) && SHARED_MODELS) || postgresSkip() !== null,
  fn: () =>
    withSharedModels(async (cache, root) => {
      const pg = await pgCluster();
      const o = { steps: 60, cache, root, log: console.log, inference: "wasm" as const };
      const bbt = await pg.createDb();
      await propertyOnSet("bbt_faceapi", sharedPhotos("bbt_faceapi"), {
        ...o,
        seed: 4,
        library: bbt,
      });
      const five = await pg.createDb();
      await propertyOnSet("five_celebrity", sharedPhotos("five_celebrity"), {
        ...o,
        seed: 5,
        library: five,
      });
    }),
});
