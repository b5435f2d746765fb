// What a user met on a real library (each failed on c9aba41): a hidden photo skipped without
// a word, temporary files of a run killed in the files stage left for good, and progress
// lines that said "0 images found" and "6545305.8/s".

import { Library } from "../../lib/library/library.ts";
import { exportLibrary } from "../../lib/library/export.ts";
import { HIDDEN_FOLDER } from "../../lib/scan/scan.ts";
import { temporaryFiles } from "../library_check.ts";
import {
  assert,
  assertEquals,
  hasShared,
  linkSharedPhotos,
  runCli,
  SHARED,
  SHARED_MODELS,
  sharedPhotos,
  withSharedModels,
} from "../shared.ts";

const HAVE = hasShared("faces/bbt_faceapi") && SHARED_MODELS;

Deno.test({
  name: "leftovers: a hidden photo is taken, a hidden folder listed; progress lines tell the truth",
  ignore: !HAVE,
  fn: () =>
    withSharedModels(async (cache, root) => {
      const files = sharedPhotos("bbt_faceapi");
      await linkSharedPhotos("bbt_faceapi", files.slice(1), `${root}/in`);
      // the first photo as a hidden file; a hidden folder (thumbnails) with a photo in it
      const [who, name] = files[0].split("/");
      await Deno.copyFile(`${SHARED}faces/bbt_faceapi/${files[0]}`, `${root}/in/${who}/.${name}`);
      await Deno.mkdir(`${root}/in/.thumbnails`);
      await Deno.copyFile(`${SHARED}faces/bbt_faceapi/${files[1]}`, `${root}/in/.thumbnails/t.jpg`);
      const args = [`${root}/in`, "--out", `${root}/out`, "--cache", cache];
      const first = await runCli([...args, "--json"]);
      assertEquals(first.code, 0, first.stderr);
      const j = JSON.parse(first.stdout);
      assertEquals(j.photos, files.length, "the hidden photo is one of the photos");
      assertEquals(j.photos_with_faces + j.photos_without_faces + j.photos_failed, files.length);
      assertEquals(j.skipped_entries, [{ path: `${root}/in/.thumbnails`, problem: HIDDEN_FOLDER }]);
      const m = JSON.parse(await Deno.readTextFile(`${root}/out/clusters.json`));
      assert(
        m.faces.some((f: { file: string }) => f.file === `${who}/.${name}`),
        "the hidden photo's face is in the manifest",
      );
      // an unchanged re-run, with its progress lines (not a terminal: one line per stage)
      const again = await runCli(args);
      assertEquals(again.code, 0, again.stderr);
      const lines = again.stderr.split("\n");
      const line = (stage: string) => lines.find((l) => l.startsWith(`${stage}: `)) ?? "";
      assert(
        line("scan").startsWith(`scan: ${files.length} images found`) &&
          line("scan").includes("0 new or touched, 0 gone, 1 skipped"),
        line("scan"),
      );
      assert(
        /^cluster: \d+ faces clustered in [\d.]+ s \(\d+ people, 0 new, 0 faces changed person\)$/
          .test(line("cluster")),
        line("cluster"),
      );
      assert(
        /^files: (\d+)\/\1 output files checked in [\d.]+ s \(0 written, 0 moved, 0 removed\)$/
          .test(line("files")),
        line("files"),
      );
      assert(!/\d{5,}\.\d\/s/.test(again.stderr), `no absurd rate:\n${again.stderr}`);
      assert(again.stdout.includes(`skipped: ${root}/in/.thumbnails: ${HIDDEN_FOLDER}`));
    }),
});

Deno.test({
  name: "leftovers: temporary files of an export stopped in the files stage go, wherever they are",
  ignore: !HAVE,
  fn: () =>
    withSharedModels(async (cache, root) => {
      await linkSharedPhotos("bbt_faceapi", sharedPhotos("bbt_faceapi"), `${root}/in`);
      const out = `${root}/out`;
      const r = await runCli([`${root}/in`, "--out", out, "--quiet", "--cache", cache]);
      assertEquals(r.code, 0, r.stderr);
      const lib = await Library.open(`${out}/library.db`);
      try {
        const people = await lib.people();
        // a folder the next run has nothing to write into (the reported case)
        const folder = `person_${String(people[1].id).padStart(3, "0")}`;
        assert(Deno.statSync(`${out}/${folder}`).isDirectory, folder);
        // the export of a run that dies (here: an error thrown from its progress callback)
        // half-way through the files stage, after a rename into a new name was due: the
        // person is named, so its files move; temporary files are what a killed process
        // leaves in folders it was writing and in others the next run will not touch
        await lib.name(people[0].id, "Someone");
        const dead = 2 ** 22 + 17; // above Linux's default pid_max: no such process
        const planted = [
          `${folder}/.contact_sheet.png.${dead}.tmp`,
          `${folder}/faces/.face_000001.jpg.${dead}.tmp`,
          `.clusters.json.${dead}.tmp`,
        ];
        let calls = 0;
        const died = await lib.exclusive(() =>
          exportLibrary(lib, `${root}/in`, out, {
            onProgress: (stage, done, total) => {
              if (stage !== "files" || done < total / 2 || calls++ > 0) return;
              for (const p of planted) Deno.writeFileSync(`${out}/${p}`, new Uint8Array(10));
              throw new Error("killed");
            },
          })
        ).then(() => false, () => true);
        assert(died, "the export stopped half-way");
        assertEquals(temporaryFiles(out), planted.sort());
        await lib.exclusive(() => exportLibrary(lib, `${root}/in`, out));
        assertEquals(temporaryFiles(out), [], "no temporary file is left anywhere");
        assert(Deno.statSync(`${out}/Someone`).isDirectory);
      } finally {
        await lib.close();
      }
    }),
});
