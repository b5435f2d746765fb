/**
 * What a library shows of itself: faces with their photo and person, people with their
 * counts, and the reader interface the output folder and the review page are written from.
 *
 * @module
 */

import type { ClusteringMetrics } from "../metrics/metrics.ts";
import type { LibrarySettings } from "./settings.ts";
import type { LibraryStore, StoredFace, StoredPhoto } from "./store.ts";

/** A person as listed. */
export interface PersonView {
  /** Stable id. */
  id: number;
  /** Name, or null. */
  name: string | null;
  /** Faces. */
  faces: number;
  /** Of those, faces the user put there (pinned). */
  pinned: number;
  /** Photos. */
  photos: number;
  /** The most typical face (highest similarity to the mean). */
  representative: number;
}

/** A face as listed. */
export interface FaceView extends StoredFace {
  /** Photo path relative to the input. */
  file: string;
  /** The photo's label (first folder), or null. */
  label: string | null;
  /** Person id, or null. */
  personId: number | null;
  /** Put there by the user. */
  pinned: boolean;
  /** Kept out of people as hard to recognise (by the last clustering). */
  hard: boolean;
  /** Cosine to the person's mean. */
  similarity: number;
}

/** A person given by id (number or digits) or by name. */
export type PersonRef = number | string;

/** How the people score against the labels (the first folder of each photo). */
export interface LibraryEvaluation {
  /** Labeled photos. */
  photos: number;
  /** Of them, photos with a clustered face. */
  faces: number;
  /** `faces / photos`. */
  coverage: number;
  /** Pairwise, BCubed and NMI. */
  metrics: ClusteringMetrics;
}

/**
 * What the output folder and the review page read from a library (the `Library` class is
 * one).
 *
 * @example
 * ```ts ignore
 * const reader: LibraryReader = await Library.open("out/library.db");
 * console.log((await reader.people()).length);
 * ```
 */
export interface LibraryReader {
  /** The store. */
  readonly store: LibraryStore;
  /** Every face with its photo and person. */
  faces(): Promise<FaceView[]>;
  /** The persons with faces, largest first. */
  people(known?: FaceView[]): Promise<PersonView[]>;
  /** Every photo. */
  photos(): Promise<StoredPhoto[]>;
  /** The metrics against the labels, or null for an unlabeled input. */
  evaluation(known?: FaceView[]): Promise<LibraryEvaluation | null>;
  /** What the library was made with (null before its first run). */
  settings(): Promise<LibrarySettings | null>;
}

/**
 * Every photo accounted for: with a face (found or taken whole), without one, failed.
 *
 * @param photos The library's photos.
 * @returns The three counts.
 *
 * @example
 * ```ts ignore
 * const { withFaces, withoutFaces, failed } = accountingOf(await lib.photos());
 * ```
 */
export function accountingOf(
  photos: StoredPhoto[],
): { withFaces: number; withoutFaces: number; failed: number } {
  let withFaces = 0, withoutFaces = 0, failed = 0;
  for (const p of photos) {
    if (p.status === "faces") withFaces++;
    else if (p.status === "no_face") withoutFaces++;
    else failed++;
  }
  return { withFaces, withoutFaces, failed };
}
