import { USAGE } from "../cli.ts";
import { assert } from "./shared.ts";

Deno.test("README: its usage block is cli.ts --help, and it starts with the two set-up commands", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  assert(readme.includes("```\n" + USAGE.trimEnd() + "\n```"), "README's usage differs from USAGE");
  const first = /```sh\n(.*)\n(.*)\n```/.exec(readme);
  assert(first !== null && readme.indexOf(first[0]) < 40, "README does not start with a sh block");
  assert(first[1].includes("cli.ts") && first[2].endsWith("deno task test"), first[0]);
  const ci = await Deno.readTextFile(new URL("../.ci/run", import.meta.url));
  assert(ci.trimEnd().endsWith("deno task test"), ".ci/run does not end with the test command");
});
