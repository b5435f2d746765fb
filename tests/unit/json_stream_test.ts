// JSON a piece at a time equals JSON.stringify (pretty and compact), its digest equals the
// digest of the whole string, and the file written is the same text.

import { createHash } from "node:crypto";
import { jsonDigest, jsonPieces, writeJsonAtomic } from "../../lib/io/json_stream.ts";
import { assertEquals } from "../shared.ts";

const value = {
  a: 1,
  b: [1, { c: [2, 3], d: "x" }, null],
  faces: Array.from({ length: 2500 }, (_, i) => ({
    id: i,
    box: { x: i / 3, y: 2 },
    person: i % 7 === 0 ? null : i % 11,
    gone: undefined,
  })),
  empty: {},
  none: [],
  skipped: undefined,
  text: 'é\n"q"',
};

Deno.test("json stream: pieces join to JSON.stringify; digest and file equal the whole string's", async () => {
  for (const indent of [0, 1, 2]) {
    assertEquals([...jsonPieces(value, indent)].join(""), JSON.stringify(value, null, indent));
  }
  assertEquals(
    jsonDigest(value),
    createHash("sha256").update(JSON.stringify(value)).digest("hex"),
  );
  const dir = await Deno.makeTempDir();
  try {
    await writeJsonAtomic(`${dir}/m.json`, value, 1);
    assertEquals(await Deno.readTextFile(`${dir}/m.json`), JSON.stringify(value, null, 1) + "\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
