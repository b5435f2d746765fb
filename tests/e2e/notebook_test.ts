// examples/cluster_faces.ipynb executed for real with Debian's jupyter (nbconvert + nbclient)
// and the Deno kernel; its outputs are checked.

import { assert, assertEquals, hasShared } from "../shared.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function ready(): Promise<string | null> {
  try {
    const py = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import nbconvert, nbclient, ipykernel"],
    }).output();
    if (!py.success) return "python3-nbconvert, python3-nbclient or python3-ipykernel missing";
    const ks = await new Deno.Command("jupyter", { args: ["kernelspec", "list"] }).output();
    if (!new TextDecoder().decode(ks.stdout).includes("deno")) {
      return "no Deno kernel (run `deno jupyter --install`)";
    }
  } catch (e) {
    return `no jupyter: ${(e as Error).message}`;
  }
  return hasShared("faces/bbt_faceapi") ? null : "../shared/faces/bbt_faceapi absent";
}

const why = await ready();
if (why) console.log(`SKIP notebook test: ${why}`);

Deno.test({
  name: "notebook: examples/cluster_faces.ipynb runs in Jupyter and shows people and metrics",
  ignore: why !== null,
  async fn() {
    // the Deno kernel can drop a cell's display or stream message when the machine is loaded
    // (its output races the cell's end; denoland/deno#20337 describes the grouping): a run
    // with an output missing is run once more, and the second one must be complete
    for (let attempt = 1;; attempt++) {
      const missing = await runNotebook();
      if (missing === null) return;
      if (attempt === 2) throw new Error(missing);
      console.log(`the kernel dropped an output (${missing.slice(0, 80)}); running again`);
    }
  },
});

/** Executes the notebook and checks its outputs; returns what is missing, or null. */
async function runNotebook(): Promise<string | null> {
  const out = await Deno.makeTempDir();
  try {
    const run = await new Deno.Command("/usr/bin/python3", {
      args: [
        "-m",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "cluster_faces.ipynb",
        "--output",
        `${out}/executed.ipynb`,
        "--ExecutePreprocessor.timeout=900",
        "--ExecutePreprocessor.iopub_timeout=60",
      ],
      cwd: `${ROOT}examples`,
    }).output();
    assertEquals(run.code, 0, new TextDecoder().decode(run.stderr));
    const nb = JSON.parse(await Deno.readTextFile(`${out}/executed.ipynb`));
    const outputs = nb.cells.flatMap((c: { outputs?: unknown[] }) => c.outputs ?? []) as {
      output_type: string;
      text?: string[];
      data?: Record<string, string[]>;
    }[];
    assert(
      !outputs.some((o) => o.output_type === "error"),
      JSON.stringify(outputs).slice(0, 2000),
    );
    const text = outputs.filter((o) => o.output_type === "stream").map((o) => o.text!.join(""))
      .join("");
    const summary = text.match(/(\d+) photos, (\d+) faces, (\d+) people/);
    if (!summary) return `no summary line: ${text}`;
    assertEquals(summary[1], "40");
    const html = outputs.map((o) => o.data?.["text/html"]?.join("") ?? "").join("");
    const people = (html.match(/class="person"/g) ?? []).length;
    if (people === 0) return "no people shown";
    assertEquals(people, Number(summary[3]));
    assert(people >= 7, `${people} people`);
    const imgs = html.match(/src="data:image\/png;base64,iVBORw0KGgo/g) ?? [];
    assert(imgs.length >= 2 * people, `${imgs.length} PNG faces`);
    const md = outputs.map((o) => o.data?.["text/markdown"]?.join("") ?? "").join("");
    const bcubed = md.match(/\| BCubed \| [\d.]+ \| [\d.]+ \| ([\d.]+) \|/);
    if (!bcubed) return `no metrics table: ${md}`;
    assert(Number(bcubed[1]) >= 0.9, `markdown: ${md}; ${text}`);
    if (!text.includes("done: 40 faces")) return `no last line: ${text}`;
    return null;
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}
