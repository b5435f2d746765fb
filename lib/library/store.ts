/**
 * The library's store: the small interface every stage reads and writes through (one SQLite
 * file in `sqlite_store.ts`; a PostgreSQL database shared by several machines in
 * `postgres_store.ts`), and the rows it holds.
 * Every method that writes does so in one transaction.
 *
 * @module
 */

import type { Point } from "../align/similarity.ts";

/** A face box in photo pixels. */
export interface Box {
  /** Left. */
  x: number;
  /** Top. */
  y: number;
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/** What the library knows of one photo. */
export interface StoredPhoto {
  /** Stable id. */
  id: number;
  /** Path relative to the input folder, `/` separators. */
  path: string;
  /** Size in bytes when it was read. */
  size: number;
  /** Modification time (ms) when it was read. */
  mtime: number;
  /** SHA-256 of its bytes. */
  sha256: string;
  /** Decoded (upright) width; 0 for a failed photo. */
  width: number;
  /** Decoded height. */
  height: number;
  /** With faces, without one, or could not be used. */
  status: "faces" | "no_face" | "failed";
  /** Why it failed. */
  error: string | null;
  /**
   * The photo it is a byte-for-byte copy of (its faces are that photo's: found and
   * clustered once, archived under both paths), or null.
   */
  duplicateOf: number | null;
}

/** A face as a stage hands it to the store. */
export interface NewFace {
  /** Box in photo pixels. */
  box: Box;
  /** All landmarks the detector gave (68 or 5), photo pixels (not stored: `points` are). */
  landmarks: Point[];
  /** Eye centres, nose tip, mouth corners. */
  points: Point[];
  /** Detector score. */
  score: number;
  /** Found by the detector, or the whole picture taken as a face (crop mode). */
  source: "detected" | "whole";
  /** Quality in [0, 1]. */
  quality: number;
  /** Embedding length before normalisation (NaN when unknown). */
  norm: number;
  /** Unit embedding. */
  vector: Float32Array;
  /** The aligned chip as JPEG (PNG in libraries made before JPEG chips), if kept. */
  chip: Uint8Array | null;
}

/** A stored face (without its vector and chip). */
export interface StoredFace {
  /** Stable id (never reused). */
  id: number;
  /** Its photo. */
  photoId: number;
  /** Box in photo pixels. */
  box: Box;
  /** Five points. */
  points: Point[];
  /** Detector score. */
  score: number;
  /** How it was found. */
  source: "detected" | "whole";
  /** Quality in [0, 1]. */
  quality: number;
  /** Embedding length before normalisation (NaN when unknown). */
  norm: number;
  /** The user said this is not a face. */
  notFace: boolean;
}

/** A person. */
export interface StoredPerson {
  /** Stable id (never reused). */
  id: number;
  /** The name the user gave, or null. */
  name: string | null;
  /** When it was created (ISO time). */
  created: string;
  /** Mean direction of its faces at the last clustering (null before). */
  centroid: Float32Array | null;
}

/** A face's person. */
export interface Assignment {
  /** The face. */
  faceId: number;
  /** Its person, or null (alone). */
  personId: number | null;
  /** Put there by the user (a must-link to the person's other pinned faces). */
  pinned: boolean;
  /** Cosine to the person's mean (0 when alone). */
  similarity: number;
  /** Kept out of people as hard to recognise (by the last clustering; never when pinned). */
  hard: boolean;
}

/** A person's counts (see {@link LibraryStore.personCounts}). */
export interface PersonCount {
  /** The person. */
  id: number;
  /** Its name, or null. */
  name: string | null;
  /** Faces assigned to it. */
  faces: number;
  /** Of those, faces the user put there. */
  pinned: number;
}

/** Which faces a {@link LibraryStore.facePage} lists. */
export type FacePageFilter =
  | { person: number }
  | {
    /**
     * Faces outside people: `alone` (clusterable, no person), `hard` (hard to recognise) or
     * `notfaces` (marked not a face, or below the quality gate).
     */
    outside: "alone" | "hard" | "notfaces";
    /** The quality gate. */
    gate: number;
  };

/** A face with its photo's path and its assignment (null: none). */
export interface FaceRow {
  /** The face. */
  face: StoredFace;
  /** Its photo's path. */
  path: string;
  /** Its assignment. */
  assignment: Assignment | null;
}

/** A page of faces and how many there are in all. */
export interface FacePage {
  /** Faces matching the filter. */
  total: number;
  /** This page of them. */
  faces: FaceRow[];
}

/** A face the user said is not this person (a cannot-link). */
export interface CannotLink {
  /** The face. */
  faceId: number;
  /** The person it is not. */
  personId: number;
}

/** A face's nearest faces (by face id), decreasing similarity. */
export interface NeighbourList {
  /** The face. */
  faceId: number;
  /** Neighbour face ids (the face itself first). */
  ids: Int32Array;
  /** Their similarities. */
  sims: Float32Array;
}

/**
 * A change to people, faces and constraints, written in one transaction; the store keeps
 * its inverse so that it can be undone. Person ids below 0 stand for persons created by the
 * change (-1 the first, -2 the second, …).
 */
export interface Edit {
  /** Faces' persons and pins. */
  assign?: { faceId: number; personId: number | null; pinned: boolean }[];
  /** Names (null clears). */
  names?: { personId: number; name: string | null }[];
  /** Cannot-links added. */
  addCannot?: CannotLink[];
  /** Not-a-face marks set or cleared. */
  notFace?: { faceId: number; value: boolean }[];
  /** Persons created (names; null for none). */
  create?: (string | null)[];
}

/** A user decision as logged. */
export interface Decision {
  /** Id, increasing. */
  id: number;
  /** When (ISO time). */
  at: string;
  /** name, merge, move, split, not_a_face, not_this_person. */
  kind: string;
  /** What it did, for people. */
  summary: string;
  /** Undone since. */
  undone: boolean;
}

/** A file the library wrote into an output folder. */
export interface OutputFile {
  /** Path relative to the output folder. */
  path: string;
  /** Size when written. */
  size: number;
  /** Modification time when written (ms). */
  mtime: number;
}

/** Photos, faces, their persons and the persons, read at one moment (one transaction). */
export interface LibrarySnapshot {
  /** Every photo. */
  photos: StoredPhoto[];
  /** Every face. */
  faces: StoredFace[];
  /** Every assignment. */
  assignments: Assignment[];
  /** Every person. */
  persons: StoredPerson[];
}

/** The process holding a library's writer lock. */
export interface LockHolder {
  /** Its process id. */
  pid: number;
  /** Since when (ISO time). */
  at: string;
}

/** The result of a clustering, as stored. */
export interface Clustering {
  /**
   * Every face not pinned: its person (ids < 0: new persons, in `create` order) or null, and
   * whether it was kept out of people as hard to recognise.
   */
  assign: { faceId: number; personId: number | null; similarity: number; hard?: boolean }[];
  /** Pinned faces' similarities. */
  pinnedSimilarity: { faceId: number; similarity: number }[];
  /** New persons to create: -1 is the first. */
  create: number;
  /** Persons' mean directions (ids < 0: new ones). */
  centroids: { personId: number; centroid: Float32Array }[];
}

/** The library's tables, in the order a copy writes them (each after what it refers to). */
export const TABLES: readonly string[] = [
  "meta",
  "photos",
  "faces",
  "vectors",
  "neighbours",
  "persons",
  "assignments",
  "cannot_links",
  "decisions",
  "outputs",
];

/** A value of a table row as a copy moves it (true/false as 1/0, bytes as bytes). */
export type CellValue = string | number | null | Uint8Array;

/** Some rows of one table (see {@link LibraryStore.dump}). */
export interface TableRows {
  /** One of {@link TABLES}. */
  table: string;
  /** Rows by column name. */
  rows: Record<string, CellValue>[];
}

/**
 * The library's storage. One writer (a run: scan, faces, people and the output folder) at a
 * time holds the lock; a decision or an undo is refused with a `LibraryBusyError` while
 * another live process holds it (checked in the decision's own transaction), and reads go on
 * from consistent snapshots.
 *
 * @example
 * ```ts ignore
 * import { SqliteStore } from "./sqlite_store.ts";
 * const store: LibraryStore = await SqliteStore.open("out/library.db");
 * console.log((await store.photos()).length);
 * await store.close();
 * ```
 */
export interface LibraryStore {
  /** Where it is (a file path or a URL). */
  readonly location: string;
  /** A setting (null when not set). */
  setting(key: string): Promise<string | null>;
  /** Sets a setting. */
  setSetting(key: string, value: string): Promise<void>;
  /** Takes the writer lock, or throws a `LibraryBusyError` when a live run holds it. */
  lock(owner: number): Promise<void>;
  /** Releases the writer lock. */
  unlock(owner: number): Promise<void>;
  /** The live process holding the writer lock, or null. */
  holder(): Promise<LockHolder | null>;
  /** Photos, faces, assignments and persons as of one moment. */
  snapshot(): Promise<LibrarySnapshot>;
  /** Every photo. */
  photos(): Promise<StoredPhoto[]>;
  /** The photos at these paths or with these SHA-256s (a batch's look-up, not a full read). */
  findPhotos(paths: string[], shas: string[]): Promise<StoredPhoto[]>;
  /** Each person with faces: its face and pinned-face counts (a page's worth of work). */
  personCounts(): Promise<PersonCount[]>;
  /** A person's photo count and most typical face (highest similarity, then lowest id). */
  personDetail(personId: number): Promise<{ photos: number; representative: number }>;
  /**
   * One page of faces with their photos and assignments: a person's (by increasing
   * similarity, then id), or the faces outside people of one kind (by id); with the total.
   */
  facePage(which: FacePageFilter, offset: number, limit: number): Promise<FacePage>;
  /** These faces with their photos and assignments (those that exist, by id). */
  facesById(ids: number[]): Promise<FaceRow[]>;
  /**
   * Stores photos with their faces (a photo already at the same path is replaced); the
   * vectors are kept under the library's model (setting `model_key`).
   */
  putPhotos(items: { photo: Omit<StoredPhoto, "id">; faces: NewFace[] }[]): Promise<void>;
  /** Updates a photo's path, size and mtime (a file moved or touched). */
  movePhoto(id: number, path: string, size: number, mtime: number): Promise<void>;
  /** Forgets photos (their faces, vectors and assignments with them). */
  removePhotos(ids: number[]): Promise<void>;
  /** Every face, by id. */
  faces(): Promise<StoredFace[]>;
  /** The vectors of these faces (the library's model), as one `ids.length × dims` array. */
  vectors(ids: number[], dims: number): Promise<Float32Array>;
  /** A face's chip (JPEG, or PNG from an older library), or null. */
  chip(faceId: number): Promise<Uint8Array | null>;
  /** Every neighbour list. */
  neighbours(): Promise<NeighbourList[]>;
  /** Writes (replaces) neighbour lists and deletes those of `remove`. */
  putNeighbours(lists: NeighbourList[], remove: number[]): Promise<void>;
  /** Every person. */
  persons(): Promise<StoredPerson[]>;
  /** Every assignment. */
  assignments(): Promise<Assignment[]>;
  /** Every cannot-link. */
  cannotLinks(): Promise<CannotLink[]>;
  /** Stores a clustering; returns the ids given to the new persons. */
  saveClustering(c: Clustering): Promise<number[]>;
  /**
   * Applies a user's change and logs it; returns the decision id. Throws a
   * `LibraryBusyError` (changing nothing) while another live process holds the lock.
   */
  edit(kind: string, summary: string, change: Edit): Promise<number>;
  /**
   * Undoes the last decision not undone; returns it, or null when there is none. Refused like
   * {@link LibraryStore.edit} while another process holds the lock.
   */
  undo(): Promise<Decision | null>;
  /** The decision log, oldest first. */
  decisions(): Promise<Decision[]>;
  /** Files written into an output folder. */
  outputs(out: string): Promise<OutputFile[]>;
  /** Records written files and forgets removed ones. */
  putOutputs(out: string, written: OutputFile[], removed: string[]): Promise<void>;
  /**
   * Every row of every table (but the writer lock), a page at a time, in {@link TABLES}
   * order, ids kept: what `library copy` moves.
   */
  dump(): AsyncIterable<TableRows>;
  /**
   * Writes what a {@link LibraryStore.dump} gave into this library, which must have no
   * photos, in one transaction, ids kept (later ids continue after them).
   *
   * @throws {InputError} When this library has photos.
   */
  load(rows: AsyncIterable<TableRows>): Promise<void>;
  /** Closes it. */
  close(): Promise<void>;
}
