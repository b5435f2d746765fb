/**
 * A photo library that remembers: the stages (scan → faces → kNN → people) over one store,
 * so that a re-run works only on what changed, person ids stay, and the user's decisions
 * (names, merges, moves, splits, not a face, not this person) constrain every clustering.
 *
 * The rule of decisions (the README says the same):
 * - A decision fixes the persons it touches as they are when it is made: their faces are
 *   pinned to them. Naming pins the person's faces; a merge pins both sides to the one that
 *   stays; a move pins the moved faces to the target and the target's and the former
 *   person's other faces where they are ("this face is Alice" means "with Alice's faces",
 *   and "not with Bob's"); a split pins both parts.
 * - "Not this person", a move out and a split add a cannot-link (the face never rejoins that
 *   person); "not a face" takes the face out of every person; neither pins anyone else.
 * - A pinned face is never moved by a clustering, and a person is its pinned faces: a person
 *   keeps its id through every re-cluster while it has them, and otherwise while it keeps
 *   most of its faces. Faces nobody pinned go where the clustering puts them.
 * - Undo restores exactly what its decision changed (persons, pins, names, constraints).
 * - Only one process writes at a time: a run holds the library until its folders are
 *   written, and a decision made meanwhile waits briefly, then is refused by name
 *   (`LibraryBusyError`); reads see a consistent snapshot.
 *
 * @module
 */

import { defaultDetector, detectorKey, type DetectorKind } from "../detect/detector.ts";
import type { InferenceDevice } from "../embed/onnx_runtime.ts";
import { defaultModel, type EmbeddingModel, modelKey, MODELS } from "../embed/models.ts";
import { modelCacheDir } from "../embed/download.ts";
import { modelFromFile } from "../embed/model_file.ts";
import { InputError, LibraryBusyError } from "../errors.ts";
import type { KnnBackend } from "../knn/types.ts";
import { type ClusteringMetrics, evaluate } from "../metrics/metrics.ts";
import { FaceEngine } from "../pipeline/face_engine.ts";
import { FaceEmbedder } from "../embed/embedder.ts";
import { nativeInferenceAvailable } from "../embed/onnx_runtime.ts";
import type { RgbImage } from "../image/types.ts";
import { blurStoredChip, CENTRE_MIN_FACES, centreOf, centreSample } from "./recognisability.ts";
import type { ScannedImage, ScanProblem } from "../scan/scan.ts";
import {
  ingest,
  type IngestOptions,
  type IngestSummary,
  type ScanChanges,
  scanChanges,
} from "./ingest.ts";
import { recluster, type ReclusterSummary } from "./recluster.ts";
import {
  DEFAULT_K,
  DEFAULT_MAX_PIXELS,
  DEFAULT_MIN_FACE_SIZE,
  DEFAULT_MIN_QUALITY,
  type LibrarySettings,
  type PlaceMode,
  readSettings,
  SETTINGS_VERSION,
  writeSettings,
} from "./settings.ts";
import { openStore } from "./open_store.ts";
import type { FaceView, LibraryEvaluation, LibraryReader, PersonRef, PersonView } from "./views.ts";
import { exportLibrary, type ExportSummary } from "./export.ts";
import type {
  Assignment,
  Box,
  Decision,
  Edit,
  FacePageFilter,
  FaceRow,
  LibrarySnapshot,
  LibraryStore,
  PersonCount,
  StoredFace,
  StoredPerson,
  StoredPhoto,
} from "./store.ts";

/**
 * Options of {@link Library.update}: what is not given is taken from the library's settings
 * (what it was made with), else from the defaults of `settings.ts`.
 */
export interface UpdateOptions {
  /** The embedding model. @default the library's, else MobileFaceNet when cached, else dlib */
  model?: EmbeddingModel;
  /** The `.onnx` file `model` was loaded from (kept, so that a re-cluster can load it). */
  modelFile?: string;
  /** The detector. @default the library's, else "yunet" when cached, else "ssd" */
  detector?: DetectorKind;
  /** YuNet's faces aligned on 68 points. @default the library's, else true */
  refine?: boolean;
  /** Crop mode. @default the library's, else false */
  crop?: boolean;
  /** Also embed each face mirrored and average the two. @default the library's, else false */
  flip?: boolean;
  /** Quality gate. @default the library's, else DEFAULT_MIN_QUALITY */
  minQuality?: number;
  /** Link threshold. @default the library's, else the model's */
  minSim?: number;
  /** Neighbours per face. @default the library's, else DEFAULT_K */
  k?: number;
  /** Smallest detector score kept. @default the library's, else the detector's */
  minConfidence?: number;
  /** Smallest face side. @default the library's, else DEFAULT_MIN_FACE_SIZE */
  minFaceSize?: number;
  /** Images with more pixels are refused before decoding. @default DEFAULT_MAX_PIXELS */
  maxPixels?: number;
  /** The output folder (kept in the settings for a later re-cluster). */
  out?: string;
  /** How photos are placed in the output folder. @default the library's, else "copy" */
  link?: PlaceMode;
  /** Execution provider of the face models. */
  inference?: InferenceDevice;
  /** Model cache. @default modelCacheDir() */
  cacheDir?: string;
  /** Full kNN searches. */
  knn?: KnnBackend;
  /** Face workers (WASM). */
  workers?: number;
  /** Folders left out of the scan (the output folder). */
  exclude?: string[];
  /** Progress per stage (`total` 0: a count with no known end; `detail`: more to say). */
  onProgress?: (stage: string, done: number, total: number, detail?: string) => void;
  /** One-line notices (a model or detector chosen because another is not cached). */
  onNotice?: (message: string) => void;
  /** Stops the run; what was stored stays, and the next run goes on from there. */
  signal?: AbortSignal;
}

/** What {@link Library.update} did. */
export interface UpdateSummary {
  /** The input folder. */
  input: string;
  /** Images in the input. */
  photos: number;
  /** Entries the scan skipped. */
  skipped: ScanProblem[];
  /** The faces stage. */
  faces: IngestSummary;
  /** The people stage. */
  people: ReclusterSummary;
  /** The settings the run used (now the library's). */
  settings: LibrarySettings;
  /** Seconds per stage and in all. */
  seconds: { scan: number; faces: number; knn: number; cluster: number; total: number };
}

export type { FaceView, LibraryReader, PersonRef, PersonView } from "./views.ts";

/** No photos added. */
function emptyIngest(): IngestSummary {
  return {
    added: 0,
    changed: 0,
    touched: 0,
    duplicates: 0,
    removed: 0,
    failed: [],
    seconds: { decode: 0, detect: 0, align: 0, embed: 0 },
  };
}

/** Options of {@link Library.run} and {@link Library.recluster}. */
export interface RunOptions extends UpdateOptions {
  /** Score the people against the labels (the input's first folders) into the summary. */
  evaluate?: boolean;
}

/** What a run changed, as `clusters.json` and the CLI's JSON say it. */
export interface RunChanges {
  /** The library's first run (nothing to compare with). */
  first_run: boolean;
  /** Photos whose faces were found now. */
  new_photos: number;
  /** Photos that replaced a changed file. */
  changed_photos: number;
  /** Photos moved or touched (same bytes). */
  moved_photos: number;
  /** New copies of a photo already there. */
  duplicate_photos: number;
  /** Photos forgotten. */
  removed_photos: number;
  /** Persons created now. */
  new_people: number[];
  /** Faces that joined each person. */
  faces_added: Record<string, number>;
  /** Faces that left each person. */
  faces_left: Record<string, number>;
  /** Faces that changed person. */
  faces_moved: number;
  /** Modules split to honour a cannot-link. */
  splits: number;
}

/** What {@link Library.run} did. */
export interface RunSummary {
  /** The library's part: photos, faces, people. */
  update: UpdateSummary;
  /** The output folder's part. */
  folders: ExportSummary;
  /** The metrics against the labels, when asked for and the input is labeled. */
  evaluation: LibraryEvaluation | null;
  /** What changed. */
  changes: RunChanges;
  /** Seconds per stage (`write`: the output folder) and in all. */
  seconds: {
    scan: number;
    faces: number;
    knn: number;
    cluster: number;
    write: number;
    total: number;
  };
}

/** A stored face row as the pages show it. */
function viewOf(r: FaceRow): FaceView {
  return {
    ...r.face,
    file: r.path,
    label: labelOf(r.path),
    personId: r.assignment?.personId ?? null,
    pinned: r.assignment?.pinned ?? false,
    hard: r.assignment?.hard ?? false,
    similarity: r.assignment?.similarity ?? 0,
  };
}

const labelOf = (path: string): string | null => {
  const slash = path.indexOf("/");
  return slash >= 0 ? path.slice(0, slash) : null;
};

/**
 * A library in one store.
 *
 * @example
 * ```ts ignore
 * import { Library } from "./library.ts";
 * const lib = await Library.open("photos_people/library.db");
 * await lib.update("photos");
 * const [first] = await lib.people();
 * await lib.name(first.id, "Alice");
 * await lib.close();
 * ```
 */
export class Library implements LibraryReader {
  /** The store. */
  readonly store: LibraryStore;
  /** How long a decision waits for a run holding the library (ms). */
  readonly #wait: number;
  /** Depth of {@link Library.exclusive} sections in this process. */
  #held = 0;

  private constructor(store: LibraryStore, wait: number) {
    this.store = store;
    this.#wait = wait;
  }

  /**
   * Opens (or creates) a library.
   *
   * @param path The SQLite file, or a `postgres://` address.
   * @param options `wait`: how long a decision waits for another process's run to end
   *   before it is refused with a `LibraryBusyError` (ms, default 2000).
   * @returns The library.
   * @throws {InputError} When the file is not a library.
   */
  static async open(path: string, options: { wait?: number } = {}): Promise<Library> {
    return new Library(await openStore(path), options.wait ?? 2000);
  }

  /**
   * Runs `fn` as this library's one writer: the lock is taken first (refused with a
   * `LibraryBusyError` naming the holder while another live process has it) and held until
   * `fn` ends, so that a whole run (faces, people and the output folder) is one writer's.
   * Sections nest in one process.
   *
   * @param fn The work.
   * @returns What `fn` returns.
   * @throws {LibraryBusyError} When another process holds the library.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#held === 0) await this.store.lock(Deno.pid);
    this.#held++;
    try {
      return await fn();
    } finally {
      if (--this.#held === 0) await this.store.unlock(Deno.pid);
    }
  }

  /** A decision's write: retried while another process's run holds the library, briefly. */
  async #decide<T>(write: () => Promise<T>): Promise<T> {
    const until = Date.now() + this.#wait;
    for (;;) {
      try {
        return await write();
      } catch (e) {
        if (!(e instanceof LibraryBusyError) || Date.now() >= until) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /**
   * The model the library was made with (when it is a known one).
   *
   * @returns The model, or null for a new library.
   */
  async model(): Promise<EmbeddingModel | null> {
    const s = await readSettings(this.store);
    return s === null ? null : await modelOf(s);
  }

  /**
   * Brings the library up to date with `input`: new and changed photos get their faces,
   * photos that disappeared are forgotten, every face is re-clustered under the user's
   * decisions and the people keep their ids.
   *
   * @param input The photo folder.
   * @param options Models, thresholds, progress.
   * @returns What changed.
   * @throws {InputError} When another run holds the library, or its settings differ.
   */
  async update(input: string, options: UpdateOptions = {}): Promise<UpdateSummary> {
    return await this.exclusive(() => this.#update(input, options));
  }

  async #update(
    input: string,
    options: UpdateOptions & { facesStored?: boolean },
  ): Promise<UpdateSummary> {
    const t0 = performance.now();
    const store = this.store;
    const { settings: s, model } = await this.#resolve(input, options);
    const progress = options.onProgress ?? (() => {});
    let changes: ScanChanges = { images: [], skipped: [], candidates: [], gone: [] };
    let faces: IngestSummary = emptyIngest();
    if (!options.facesStored) progress("scan", 0, 0);
    if (!options.facesStored) changes = await scanChanges(store, input, options.exclude ?? []);
    if (!options.facesStored) progress("scan", changes.images.length, 0, scanDetail(changes));
    const t1 = performance.now();
    if (!options.facesStored) {
      faces = await ingest(
        store,
        changes,
        () => this.#engine(model, s, options, changes.candidates.length),
        {
          ...this.#ingestOptions(model, s, options),
          onProgress: (done, total) => progress("faces", done, total),
        },
      );
    }
    const t2 = performance.now();
    options.signal?.throwIfAborted();
    progress("cluster", 0, 0);
    // the faces are read once, for the centre's sample and the clustering
    const stored = await store.faces();
    const centre = await this.#centre(model, s, options, stored);
    const unrecognisable = centre && {
      centre,
      threshold: model.unrecognisable!,
      faceThreshold: model.unrecognisableFace,
    };
    const people = await recluster(store, {
      faces: stored,
      dims: model.dims,
      k: s.k,
      minSim: s.minSim,
      minQuality: s.minQuality,
      knn: options.knn,
      unrecognisable,
    });
    progress(
      "cluster",
      people.faces,
      0,
      `${people.people} people, ${people.newPersons.length} new, ${people.moved} faces changed person`,
    );
    const summary: UpdateSummary = {
      input,
      photos: options.facesStored ? (await store.photos()).length : changes.images.length,
      skipped: changes.skipped,
      faces,
      people,
      settings: s,
      seconds: {
        scan: (t1 - t0) / 1000,
        faces: (t2 - t1) / 1000,
        knn: people.seconds.knn,
        cluster: people.seconds.cluster + people.seconds.store,
        total: (performance.now() - t0) / 1000,
      },
    };
    await store.setSetting(
      "last_run",
      JSON.stringify({ at: new Date().toISOString(), ...summary }),
    );
    return summary;
  }

  /** The face models for a run's photos. */
  #engine(
    model: EmbeddingModel,
    s: LibrarySettings,
    o: UpdateOptions,
    photos: number,
  ): Promise<FaceEngine> {
    const d = s.detector;
    return FaceEngine.start({
      model,
      inference: o.inference,
      cacheDir: o.cacheDir,
      detector: d.kind,
      refine: d.refine,
      flip: s.flip,
      workers: o.workers,
      photos,
    });
  }

  /** The faces stage's limits from the settings. */
  #ingestOptions(model: EmbeddingModel, s: LibrarySettings, o: UpdateOptions): IngestOptions {
    const d = s.detector;
    return {
      model,
      maxPixels: s.maxPixels,
      minConfidence: d.minConfidence ?? undefined,
      minFaceSize: d.minFaceSize,
      crop: d.crop,
      signal: o.signal,
    };
  }

  /**
   * The scan of a library shared by workers: the settings are fixed (as a run fixes them),
   * photos that moved or were touched keep their faces, photos that are gone are forgotten,
   * and the photos whose faces are to be found are handed to `queue` (a few at a time) for
   * the workers, who read them under their own root ({@link Library.addPhotos}).
   *
   * @param input The photo folder (the root, as this machine sees it).
   * @param queue Takes the photos to do.
   * @param options The settings (as for a run).
   * @returns What the scan found.
   * @throws {LibraryBusyError} When a clustering holds the library.
   */
  register(
    input: string,
    queue: (todo: ScannedImage[]) => Promise<void>,
    options: UpdateOptions = {},
  ): Promise<{ photos: number; skipped: ScanProblem[]; queued: number; faces: IngestSummary }> {
    return this.exclusive(async () => {
      const { settings: s, model } = await this.#resolve(input, options);
      const changes = await scanChanges(this.store, input, options.exclude ?? []);
      let queued = 0;
      const faces = await ingest(this.store, changes, () => {
        throw new Error("the faces are found by the workers");
      }, {
        ...this.#ingestOptions(model, s, options),
        defer: async (todo) => {
          queued = todo.length;
          await queue(todo);
        },
      });
      return { photos: changes.images.length, skipped: changes.skipped, queued, faces };
    });
  }

  /**
   * A worker's batch: these photos (registered by {@link Library.register}, read under this
   * machine's `root`) get their faces, with the library's settings, stored a few photos per
   * transaction; a photo stored already with the same size and time is skipped (a batch
   * done twice stores nothing twice). Takes no lock: workers write side by side.
   *
   * @param root Where the photos are on this machine.
   * @param photos The batch: paths relative to the root, sizes and times as registered.
   * @param engine The face models, kept open by the caller between batches.
   * @param options Cache, device, signal.
   * @returns What was stored.
   * @throws {InputError} For a library with no settings yet.
   */
  async addPhotos(
    root: string,
    photos: { path: string; size: number; mtime: number }[],
    engine: (photos: number) => Promise<FaceEngine>,
    options: UpdateOptions = {},
  ): Promise<IngestSummary> {
    const s = await this.settings();
    if (s === null) {
      throw new InputError(this.store.location, "no photos registered (run the scan first)");
    }
    const model = await modelOf(s);
    const stored = new Map(
      (await this.store.findPhotos(photos.map((p) => p.path), [])).map((p) => [p.path, p]),
    );
    const todo: ScannedImage[] = photos.filter((p) => {
      const st = stored.get(p.path);
      return !st || st.size !== p.size || st.mtime !== p.mtime;
    }).map((p) => ({
      path: `${root.replace(/\/+$/, "")}/${p.path}`,
      relative: p.path,
      format: null,
      size: p.size,
      mtime: p.mtime,
      label: p.path.includes("/") ? p.path.slice(0, p.path.indexOf("/")) : null,
    }));
    if (todo.length === 0) return emptyIngest();
    return await ingest(
      this.store,
      { images: todo, skipped: [], candidates: todo, gone: [] },
      () => engine(todo.length),
      { ...this.#ingestOptions(model, s, options), keepEngine: true },
    );
  }

  /**
   * The face models with the library's settings (a worker keeps them between batches).
   *
   * @param options Cache, device, face workers.
   * @returns The engine; the caller closes it.
   */
  async faceEngine(options: UpdateOptions = {}): Promise<FaceEngine> {
    const s = await this.settings();
    if (s === null) {
      throw new InputError(this.store.location, "no photos registered (run the scan first)");
    }
    return await this.#engine(await modelOf(s), s, options, 1 << 20);
  }

  /**
   * The clustering step alone, on the faces stored (by workers): kNN, links, Infomap, people
   * and, when the library has an output folder, its folders; as the one writer.
   *
   * @param options The output folder and input root as this machine sees them (default the
   *   library's), progress, kNN backend.
   * @returns What changed (`folders` null without an output folder).
   * @throws {LibraryBusyError} When another clustering holds the library.
   */
  async cluster(
    options: Pick<RunOptions, "cacheDir" | "knn" | "inference" | "onProgress" | "signal"> & {
      input?: string;
      out?: string | null;
    } = {},
  ): Promise<Omit<RunSummary, "folders"> & { folders: ExportSummary | null }> {
    const s = await this.settings();
    if (s === null) throw new InputError(this.store.location, "the library has no photos yet");
    const { input: given, out: wanted, ...rest } = options;
    const input = given ?? s.input;
    const out = wanted === undefined ? s.out : wanted;
    if (out !== null) return await this.#run(input, out, { ...rest, facesStored: true });
    return await this.exclusive(async () => {
      const update = await this.#update(input, { ...rest, facesStored: true });
      return {
        update,
        folders: null,
        evaluation: null,
        changes: changesOf(update, false),
        seconds: { ...update.seconds, write: 0 },
      };
    });
  }

  /**
   * The unrecognisable-identity centre of this library's model (see `recognisability.ts`),
   * from a sample of its faces chosen by their content (the same photos give the same sample
   * in any library, whatever its history); kept in the library and estimated again only when
   * the sample changes. null with too few faces.
   */
  async #centre(
    model: EmbeddingModel,
    s: LibrarySettings,
    o: UpdateOptions,
    faces: StoredFace[],
  ): Promise<Float32Array | null> {
    if (model.unrecognisable === undefined) return null;
    const key = `unrecognisable:${s.model.key}${s.flip ? "-flip" : ""}`;
    const sha = new Map((await this.store.photos()).map((p) => [p.id, p.sha256]));
    const candidates = faces.filter((f) => !f.notFace && f.quality >= s.minQuality)
      .map((f) => ({
        id: f.id,
        key: `${sha.get(f.photoId)}:${Math.round(f.box.x)},${Math.round(f.box.y)}`,
      }));
    if (candidates.length < CENTRE_MIN_FACES) return null;
    const sample = centreSample(candidates);
    const keys = sample.map((c) => c.key);
    const kept = JSON.parse((await this.store.setting(key)) ?? "null") as
      | { sample: string[]; centre: number[] }
      | null;
    if (kept && JSON.stringify(kept.sample) === JSON.stringify(keys)) {
      return Float32Array.from(kept.centre);
    }
    const chips: RgbImage[] = (await Promise.all(sample.map(async ({ id }) => {
      const png = await this.store.chip(id);
      return png ? await blurStoredChip(png, `face ${id}`) : null;
    }))).filter((c): c is RgbImage => c !== null);
    if (chips.length < CENTRE_MIN_FACES) return null;
    const device = o.inference ?? ((await nativeInferenceAvailable()) ? "native" : "wasm");
    const embedder = await FaceEmbedder.load(model, { device, cacheDir: o.cacheDir, flip: s.flip });
    try {
      const { vectors } = await embedder.embedWithNorms(chips);
      const centre = centreOf(vectors, model.dims);
      if (centre === null) return null;
      await this.store.setSetting(key, JSON.stringify({ sample: keys, centre: [...centre] }));
      return centre;
    } finally {
      await embedder.release();
    }
  }

  /**
   * The settings of this run: what the options say, else what the library was made with,
   * else the defaults (the model and detector downloaded when they are in the cache); the
   * model and the detector's settings must be the library's. Written back before any work.
   */
  async #resolve(
    input: string,
    o: UpdateOptions,
  ): Promise<{ settings: LibrarySettings; model: EmbeddingModel }> {
    const stored = await readSettings(this.store);
    const cacheDir = o.cacheDir ?? modelCacheDir();
    const notice = o.onNotice ?? (() => {});
    const model = o.model ??
      (stored ? await modelOf(stored) : await defaultModel(cacheDir, notice));
    const flip = o.flip ?? stored?.flip ?? false;
    const key = modelKey(model);
    if (stored && (stored.model.key !== key || stored.flip !== flip)) {
      throw new InputError(
        this.store.location,
        `this library's faces were embedded with ${stored.model.key}${
          stored.flip ? " --flip" : ""
        } (now ${key}${
          flip ? " --flip" : ""
        }); run with that model and --flip setting, or use --fresh or another output folder`,
      );
    }
    const kind = o.detector ?? stored?.detector.kind ?? await defaultDetector(cacheDir, notice);
    const refine = kind === "yunet" && (o.refine ?? stored?.detector.refine ?? true);
    const crop = o.crop ?? stored?.detector.crop ?? false;
    const minConfidence = o.minConfidence ?? stored?.detector.minConfidence ?? null;
    const minFaceSize = o.minFaceSize ?? stored?.detector.minFaceSize ?? DEFAULT_MIN_FACE_SIZE;
    const detector = {
      kind,
      refine,
      crop,
      minConfidence,
      minFaceSize,
      key: detectorKey(kind, refine, {
        minConfidence: minConfidence ?? undefined,
        minFaceSize,
        crop,
      }),
    };
    if (stored && stored.detector.key !== detector.key) {
      throw new InputError(
        this.store.location,
        `this library was made with other detector settings (--detector, --landmarks, --crops, --min-confidence, --min-face-size: ${stored.detector.key}, now ${detector.key}); run with the same ones, or use another output folder`,
      );
    }
    const settings: LibrarySettings = {
      version: SETTINGS_VERSION,
      input,
      out: o.out ?? stored?.out ?? null,
      model: {
        name: model.name,
        key,
        dims: model.dims,
        file: o.modelFile ?? stored?.model.file ?? null,
      },
      flip,
      detector,
      k: o.k ?? stored?.k ?? DEFAULT_K,
      minSim: o.minSim ?? (Number.isFinite(stored?.minSim) ? stored!.minSim : model.minSim),
      minQuality: o.minQuality ?? stored?.minQuality ?? DEFAULT_MIN_QUALITY,
      maxPixels: o.maxPixels ?? stored?.maxPixels ?? DEFAULT_MAX_PIXELS,
      link: o.link ?? stored?.link ?? "copy",
    };
    // the store keeps vectors under the model's key (with the mirrored faces' mark)
    await this.store.setSetting("model_key", key + (flip ? "-flip" : ""));
    await writeSettings(this.store, settings);
    return { settings, model };
  }

  /**
   * The main job: the library brought up to date with `input` ({@link Library.update}), then
   * the output folder `out` ({@link exportLibrary}), as one writer from start to end.
   *
   * @param input The photo folder.
   * @param out The output folder (left out of the scan).
   * @param options The update's options, and `evaluate`.
   * @returns What changed, with the metrics when asked for.
   * @throws {LibraryBusyError} When another process is writing the library.
   */
  run(input: string, out: string, options: RunOptions = {}): Promise<RunSummary> {
    return this.#run(input, out, options);
  }

  #run(
    input: string,
    out: string,
    options: RunOptions & { facesStored?: boolean },
  ): Promise<RunSummary> {
    return this.exclusive(async () => {
      const t0 = performance.now();
      const first = (await this.settings()) === null;
      const update = await this.#update(input, {
        ...options,
        out,
        exclude: [...(options.exclude ?? []), out],
      });
      const t1 = performance.now();
      const evaluation = options.evaluate ? await this.evaluation() : null;
      const changes = changesOf(update, first);
      const folders = await exportLibrary(this, input, out, {
        link: update.settings.link,
        extra: {
          seconds: update.seconds,
          changes,
          ...(evaluation ? { metrics: evaluation.metrics } : {}),
        },
        onProgress: options.onProgress,
      });
      const t2 = performance.now();
      return {
        update,
        folders,
        evaluation,
        changes,
        seconds: { ...update.seconds, write: (t2 - t1) / 1000, total: (t2 - t0) / 1000 },
      };
    });
  }

  /**
   * Re-clusters with the library's own settings (model, detector, thresholds, input and
   * output folders) and updates the output folder: what the review page's "re-cluster" and a
   * re-run without options do.
   *
   * @param options Where the models are cached, progress, the kNN backend.
   * @returns What changed.
   * @throws {InputError} For a library that has had no run.
   */
  async recluster(
    options: Pick<RunOptions, "cacheDir" | "knn" | "inference" | "onProgress" | "signal"> = {},
  ): Promise<RunSummary> {
    const s = await this.settings();
    if (s === null) throw new InputError(this.store.location, "the library has no photos yet");
    const out = s.out ?? this.store.location.replace(/\/[^/]*$/, "");
    return await this.run(s.input, out, options);
  }

  /**
   * What this library was made with (null before its first run).
   *
   * @returns The settings record.
   */
  settings(): Promise<LibrarySettings | null> {
    return readSettings(this.store);
  }

  /**
   * Every face with its photo and person.
   *
   * @returns The faces, by id.
   */
  async faces(): Promise<FaceView[]> {
    return this.#facesIn(await this.store.snapshot());
  }

  /** The faces of a snapshot (photos, faces and persons read at one moment). */
  #facesIn(s: LibrarySnapshot): FaceView[] {
    const photos = new Map(s.photos.map((p) => [p.id, p]));
    const assigned = new Map(s.assignments.map((a) => [a.faceId, a]));
    return s.faces.map((f) => {
      const a: Assignment | undefined = assigned.get(f.id);
      const file = photos.get(f.photoId)!.path;
      return {
        ...f,
        file,
        label: labelOf(file),
        personId: a?.personId ?? null,
        pinned: a?.pinned ?? false,
        hard: a?.hard ?? false,
        similarity: a?.similarity ?? 0,
      };
    });
  }

  /**
   * The photos.
   *
   * @returns Every stored photo.
   */
  photos(): Promise<StoredPhoto[]> {
    return this.store.photos();
  }

  /**
   * The persons with faces, largest first.
   *
   * @param known The faces, when the caller has just read them.
   * @returns Their ids, names, counts and representative faces.
   */
  async people(known?: FaceView[]): Promise<PersonView[]> {
    let faces = known, persons: Map<number, StoredPerson>;
    if (faces === undefined) {
      const s = await this.store.snapshot();
      faces = this.#facesIn(s);
      persons = new Map(s.persons.map((p) => [p.id, p]));
    } else persons = new Map((await this.store.persons()).map((p) => [p.id, p]));
    const by = new Map<number, FaceView[]>();
    for (const f of faces) {
      if (f.personId === null) continue;
      const list = by.get(f.personId) ?? [];
      list.push(f);
      by.set(f.personId, list);
    }
    return [...by.entries()].map(([id, list]) => ({
      id,
      name: persons.get(id)?.name ?? null,
      faces: list.length,
      pinned: list.filter((f) => f.pinned).length,
      photos: new Set(list.map((f) => f.photoId)).size,
      representative: list.reduce((a, b) => (b.similarity > a.similarity ? b : a)).id,
    })).sort((a, b) => b.faces - a.faces || a.id - b.id);
  }

  /**
   * One page of the people, read without the whole library: counts from the assignments, the
   * photos and the most typical face only for the page's people.
   *
   * @param options A name or id to look for, named people last (the review page's order)
   *   or largest first, the page, and the counts when the caller has just read them.
   * @returns How many match, and the page.
   *
   * @example
   * ```ts ignore
   * const { total, people } = await lib.peoplePage({ offset: 0, limit: 60 });
   * ```
   */
  async peoplePage(options: {
    query?: string;
    namedLast?: boolean;
    offset: number;
    limit: number;
    counts?: PersonCount[];
  }): Promise<{ total: number; people: PersonView[] }> {
    const q = (options.query ?? "").trim().toLowerCase();
    let list = (options.counts ?? await this.store.personCounts())
      .filter((p) => !q || (p.name ?? "").toLowerCase().includes(q) || String(p.id) === q)
      .sort((a, b) => b.faces - a.faces || a.id - b.id);
    if (options.namedLast) {
      list = list.sort((a, b) => Number(a.name !== null) - Number(b.name !== null));
    }
    const page = list.slice(options.offset, options.offset + options.limit);
    const people = [];
    for (const p of page) {
      people.push({ ...p, ...(await this.store.personDetail(p.id)) });
    }
    return { total: list.length, people };
  }

  /**
   * One page of a person's faces, least typical first (or of the faces outside people).
   *
   * @param which A person, or `alone`, `hard` or `notfaces` with the quality gate.
   * @param offset First face.
   * @param limit Faces on the page.
   * @returns How many there are, and the page.
   *
   * @example
   * ```ts ignore
   * const { total, faces } = await lib.facePage({ person: 3 }, 0, 60);
   * ```
   */
  async facePage(
    which: FacePageFilter,
    offset: number,
    limit: number,
  ): Promise<{ total: number; faces: FaceView[] }> {
    const page = await this.store.facePage(which, offset, limit);
    return { total: page.total, faces: page.faces.map(viewOf) };
  }

  /**
   * A face with its photo and person, or null.
   *
   * @param id The face.
   * @returns The face.
   *
   * @example
   * ```ts ignore
   * const f = await lib.face(12);
   * ```
   */
  async face(id: number): Promise<FaceView | null> {
    const [row] = await this.store.facesById([id]);
    return row ? viewOf(row) : null;
  }

  /**
   * Finds a person by id or name.
   *
   * @param ref An id, or a name (exact, ignoring case).
   * @returns The person.
   * @throws {InputError} When there is none.
   */
  async person(ref: PersonRef): Promise<StoredPerson> {
    const persons = await this.store.persons();
    const text = String(ref).trim();
    const p = /^\d+$/.test(text)
      ? persons.find((x) => x.id === Number(text))
      : persons.find((x) => x.name?.toLowerCase() === text.toLowerCase());
    if (!p) throw new InputError(`person '${text}'`, "no such person (see `people`)");
    return p;
  }

  async #facesOf(personId: number): Promise<FaceView[]> {
    return (await this.faces()).filter((f) => f.personId === personId);
  }

  async #checkFaces(ids: number[], known?: FaceView[]): Promise<FaceView[]> {
    const all = new Map((known ?? await this.faces()).map((f) => [f.id, f]));
    if (ids.length === 0) throw new InputError("faces", "no face given");
    return ids.map((id) => {
      const f = all.get(id);
      if (!f) throw new InputError(`face ${id}`, "no such face in this library");
      return f;
    });
  }

  /**
   * Names (or renames) a person; its faces now are pinned to it (they stay together).
   *
   * @param ref The person.
   * @param name The name (null clears it).
   * @returns The decision id.
   * @throws {InputError} For an empty name, or one another person has.
   */
  async name(ref: PersonRef, name: string | null): Promise<number> {
    const p = await this.person(ref);
    const clean = name === null ? null : name.trim();
    if (clean !== null) {
      if (
        clean === "" || /[/\\]/.test(clean) || [...clean].some((ch) => ch.charCodeAt(0) < 32) ||
        clean === "." || clean === ".."
      ) {
        throw new InputError(
          `name '${name}'`,
          "must be non-empty, without / \\ or control characters",
        );
      }
      if (/^\d+$/.test(clean)) {
        throw new InputError(`name '${name}'`, "may not be only digits (ids are)");
      }
      const other = (await this.store.persons()).find((x) =>
        x.id !== p.id && x.name?.toLowerCase() === clean.toLowerCase()
      );
      if (other) {
        throw new InputError(
          `name '${clean}'`,
          `person ${other.id} is already called that (merge the two instead)`,
        );
      }
    }
    const faces = await this.#facesOf(p.id);
    return await this.#decide(() =>
      this.store.edit(
        "name",
        `person ${p.id}: ${p.name ?? "unnamed"} → ${clean ?? "unnamed"}`,
        {
          names: [{ personId: p.id, name: clean }],
          assign: faces.map((f) => ({ faceId: f.id, personId: p.id, pinned: true })),
        },
      )
    );
  }

  /**
   * Merges persons into one (the first keeps its id; a name is kept): all their faces are
   * pinned to it.
   *
   * @param into The person that stays.
   * @param others The persons merged into it.
   * @returns The decision id.
   */
  async merge(into: PersonRef, others: PersonRef[]): Promise<number> {
    const target = await this.person(into);
    const rest = await Promise.all(others.map((r) => this.person(r)));
    if (rest.length === 0 || rest.some((r) => r.id === target.id)) {
      throw new InputError("merge", "give the person that stays and at least one other person");
    }
    const name = target.name ?? rest.find((r) => r.name)?.name ?? null;
    const edit: Edit = {
      assign: [],
      names: rest.filter((r) => r.name).map((r) => ({ personId: r.id, name: null })),
    };
    if (name !== target.name) edit.names!.push({ personId: target.id, name });
    for (const p of [target, ...rest]) {
      for (const f of await this.#facesOf(p.id)) {
        edit.assign!.push({ faceId: f.id, personId: target.id, pinned: true });
      }
    }
    return await this.#decide(() =>
      this.store.edit(
        "merge",
        `persons ${rest.map((r) => r.id).join(", ")} merged into ${target.id}${
          name ? ` (${name})` : ""
        }`,
        edit,
      )
    );
  }

  /**
   * Moves faces to a person, or to a new one: they are pinned there, and not their former
   * persons any more.
   *
   * @param faceIds The faces.
   * @param to The person, or null for a new person.
   * @param newName The new person's name.
   * @returns The decision id.
   */
  async move(
    faceIds: number[],
    to: PersonRef | null,
    newName: string | null = null,
  ): Promise<number> {
    const all = await this.faces();
    const faces = await this.#checkFaces(faceIds, all);
    const target = to === null ? null : await this.person(to);
    const pid = target?.id ?? -1;
    // "this face is Alice" means "with Alice's faces", and "not with Bob's": the persons the
    // move touches are pinned as they are now (the rule in this module's doc), so each keeps its
    // faces and its id whatever the next clustering does
    const moving = new Set(faceIds);
    const touched = new Set(faces.map((f) => f.personId).filter((p) => p !== null));
    if (target) touched.add(target.id);
    const stay = all.filter((f) =>
      f.personId !== null && touched.has(f.personId) && !f.pinned && !moving.has(f.id)
    );
    return await this.#decide(() =>
      this.store.edit(
        "move",
        `faces ${faceIds.join(", ")} → ${target ? `person ${target.id}` : "a new person"}`,
        {
          create: target ? [] : [newName],
          assign: [
            ...faces.map((f) => ({ faceId: f.id, personId: pid, pinned: true })),
            ...stay.map((f) => ({ faceId: f.id, personId: f.personId, pinned: true })),
          ],
          addCannot: faces.filter((f) => f.personId !== null && f.personId !== target?.id)
            .map((f) => ({ faceId: f.id, personId: f.personId! })),
          notFace: faces.filter((f) => f.notFace).map((f) => ({ faceId: f.id, value: false })),
        },
      )
    );
  }

  /**
   * Splits a person: the given faces become a new person, the rest stay; both sides are
   * pinned.
   *
   * @param ref The person.
   * @param faceIds Its faces that go.
   * @returns The decision id.
   */
  async split(ref: PersonRef, faceIds: number[]): Promise<number> {
    const p = await this.person(ref);
    const faces = await this.#facesOf(p.id);
    const going = new Set(faceIds);
    for (const id of faceIds) {
      if (!faces.some((f) => f.id === id)) {
        throw new InputError(`face ${id}`, `not in person ${p.id}`);
      }
    }
    if (going.size === faces.length) throw new InputError("split", "leave at least one face");
    return await this.#decide(() =>
      this.store.edit(
        "split",
        `person ${p.id}: faces ${faceIds.join(", ")} → a new person`,
        {
          create: [null],
          assign: faces.map((f) => ({
            faceId: f.id,
            personId: going.has(f.id) ? -1 : p.id,
            pinned: true,
          })),
          addCannot: faceIds.map((id) => ({ faceId: id, personId: p.id })),
        },
      )
    );
  }

  /**
   * Marks faces as not faces: they leave their persons and are never clustered.
   *
   * @param faceIds The faces.
   * @returns The decision id.
   */
  async notAFace(faceIds: number[]): Promise<number> {
    const faces = await this.#checkFaces(faceIds);
    return await this.#decide(() =>
      this.store.edit("not_a_face", `faces ${faceIds.join(", ")}: not faces`, {
        notFace: faces.map((f) => ({ faceId: f.id, value: true })),
        assign: faces.map((f) => ({ faceId: f.id, personId: null, pinned: false })),
      })
    );
  }

  /**
   * Says faces are not the person they are in: they leave it and never join it again.
   *
   * @param faceIds The faces.
   * @returns The decision id.
   */
  async notThisPerson(faceIds: number[]): Promise<number> {
    const faces = await this.#checkFaces(faceIds);
    const inPerson = faces.filter((f) => f.personId !== null);
    if (inPerson.length === 0) throw new InputError("faces", "none of them is in a person");
    return await this.#decide(() =>
      this.store.edit(
        "not_this_person",
        inPerson.map((f) => `face ${f.id} is not person ${f.personId}`).join("; "),
        {
          addCannot: inPerson.map((f) => ({ faceId: f.id, personId: f.personId! })),
          assign: inPerson.map((f) => ({ faceId: f.id, personId: null, pinned: false })),
        },
      )
    );
  }

  /**
   * Undoes the last decision not undone yet.
   *
   * @returns It, or null when there is none.
   */
  undo(): Promise<Decision | null> {
    return this.#decide(() => this.store.undo());
  }

  /**
   * The decision log.
   *
   * @returns Oldest first.
   */
  decisions(): Promise<Decision[]> {
    return this.store.decisions();
  }

  /**
   * The metrics against the labels (the first folder of each photo), for a labeled input:
   * each labeled photo counts by its clustered face nearest the photo's centre; a photo
   * with none is a cluster of its own.
   *
   * @param known The faces, when the caller has just read them.
   * @returns The metrics, or null when no photo is labeled.
   */
  async evaluation(known?: FaceView[]): Promise<
    { photos: number; faces: number; coverage: number; metrics: ClusteringMetrics } | null
  > {
    const photos = (await this.store.photos()).filter((p) => labelOf(p.path) !== null);
    if (photos.length === 0) return null;
    const gate = (await this.settings())?.minQuality ?? DEFAULT_MIN_QUALITY;
    const faces = known ?? await this.faces();
    const byFace = new Map(faces.map((f) => [f.id, f]));
    const best = new Map<number, { person: number }>();
    for (const [photo, faceId] of labelCarriers(faces, photos, gate)) {
      const f = byFace.get(faceId)!;
      best.set(photo, { person: f.personId ?? -f.id - 1 });
    }
    let lost = 1 << 30, covered = 0;
    const truth: string[] = [], predicted: number[] = [];
    for (const p of photos) {
      // a copy of a photo counts by that photo's face
      const b = best.get(p.duplicateOf ?? p.id);
      truth.push(labelOf(p.path)!);
      predicted.push(b?.person ?? lost++);
      if (b) covered++;
    }
    return {
      photos: photos.length,
      faces: covered,
      coverage: covered / photos.length,
      metrics: evaluate(truth, predicted),
    };
  }

  /** Closes the store. */
  close(): Promise<void> {
    return this.store.close();
  }
}

/** What a run changed, from its update. */
function changesOf(u: UpdateSummary, first: boolean): RunChanges {
  return {
    first_run: first,
    new_photos: u.faces.added,
    changed_photos: u.faces.changed,
    moved_photos: u.faces.touched,
    duplicate_photos: u.faces.duplicates,
    removed_photos: u.faces.removed,
    new_people: u.people.newPersons,
    faces_added: u.people.added,
    faces_left: u.people.left,
    faces_moved: u.people.moved,
    splits: u.people.splits,
  };
}

/** The model a library's settings name: a known one, or the file it was loaded from. */
async function modelOf(s: LibrarySettings): Promise<EmbeddingModel> {
  const known = MODELS[s.model.name];
  if (known && modelKey(known) === s.model.key) return known;
  if (s.model.file !== null) {
    const m = await modelFromFile(s.model.file);
    if (modelKey(m) === s.model.key) return m;
    throw new InputError(
      s.model.file,
      `is not the model this library was made with (${s.model.key})`,
    );
  }
  throw new InputError(
    s.model.key,
    "this library's model was loaded from a file it did not record; give it with --model PATH.onnx",
  );
}

/** What the scan found besides the images: work to do, photos gone, entries skipped. */
function scanDetail(c: { candidates: unknown[]; gone: unknown[]; skipped: unknown[] }): string {
  return `${c.candidates.length} new or touched, ${c.gone.length} gone, ${c.skipped.length} skipped`;
}

/**
 * The face that carries each labeled photo's label in an evaluation: of the photo's faces in
 * a person or alone above the quality gate, the one nearest the photo's centre.
 *
 * @param faces The faces.
 * @param photos The photos (those without a label, a first folder, are left out).
 * @param gate The quality gate.
 * @returns Photo id → face id.
 *
 * @example
 * ```ts ignore
 * const carriers = labelCarriers(await lib.faces(), await lib.photos(), 0.5);
 * ```
 */
export function labelCarriers(
  faces: FaceView[],
  photos: StoredPhoto[],
  gate: number,
): Map<number, number> {
  const byId = new Map(photos.filter((p) => labelOf(p.path) !== null).map((p) => [p.id, p]));
  const best = new Map<number, { d: number; face: number }>();
  for (const f of faces) {
    const p = byId.get(f.photoId);
    // a face alone still counts if it passed the gate
    if (!p || (f.personId === null && (f.notFace || f.quality < gate))) continue;
    const d = centreDistance(f.box, p);
    const seen = best.get(p.id);
    if (!seen || d < seen.d) best.set(p.id, { d, face: f.id });
  }
  return new Map([...best].map(([photo, b]) => [photo, b.face]));
}

function centreDistance(b: Box, p: { width: number; height: number }): number {
  return Math.hypot(b.x + b.width / 2 - p.width / 2, b.y + b.height / 2 - p.height / 2);
}
