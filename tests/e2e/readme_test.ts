import { USAGE } from "../../cli.ts";
import { assert, assertEquals } from "../shared.ts";

Deno.test("README: its usage block is cli.ts --help, and it starts with the two set-up commands", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  assert(readme.includes("```\n" + USAGE.trimEnd() + "\n```"), "README's usage differs from USAGE");
  const first = /```sh\n(.*)\n(.*)\n```/.exec(readme);
  assert(first !== null && readme.indexOf(first[0]) < 40, "README does not start with a sh block");
  assert(first[1].includes("cli.ts") && first[2].endsWith("deno task test"), first[0]);
  const ci = await Deno.readTextFile(new URL("../../.ci/run", import.meta.url));
  assert(ci.trimEnd().endsWith("deno task test"), ".ci/run does not end with the test command");
});

Deno.test("README: the first command (the demo) runs in a clone that has no ../shared", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const first = /```sh\n(.*)\n/.exec(readme)![1];
  const command = first.replace(/^npm install -g deno@[\d.]+ && /, "");
  assert(command === "deno run -A cli.ts demo", `README's first command: ${command}`);
  const root = await Deno.makeTempDir(); // a folder with nothing beside the clone
  try {
    const repo = new URL("../..", import.meta.url).pathname;
    const git = await new Deno.Command("git", {
      args: ["clone", "-q", repo, `${root}/facecluster`],
      stdout: "null",
    }).output();
    assert(git.success, "git clone failed");
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli.ts", "demo", "--json", "--quiet"],
      cwd: `${root}/facecluster`,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(r.stderr);
    assert(r.success, err);
    const j = JSON.parse(new TextDecoder().decode(r.stdout));
    console.log(
      `demo: ${j.photos} photos, ${j.faces} faces, ${j.people} people, detector ${j.detector}, model ${j.model}`,
    );
    assertEquals([j.photos, j.photos_with_faces, j.photos_failed], [6, 6, 0]);
    assert(j.faces >= 20, `${j.faces} faces in the six sample photos`);
    const report = await Deno.stat(`${root}/facecluster/demo_people/report.html`);
    assert(report.isFile);
    // a second run replaces the earlier demo output
    const again = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli.ts", "demo", "--quiet"],
      cwd: `${root}/facecluster`,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(again.success, new TextDecoder().decode(again.stderr));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
