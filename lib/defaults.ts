/**
 * facecluster's defaults, each written once (the library's settings record, the CLI, the
 * detector and the decoder take them from here).
 *
 * @module
 */

/** Neighbours per face (the face itself included). */
export const DEFAULT_K = 80;
/** Faces below this quality stay out of people. */
export const DEFAULT_MIN_QUALITY = 0.5;
/** The smallest face, shorter box side in pixels. */
export const DEFAULT_MIN_FACE_SIZE = 20;
/** Images with more pixels are refused before decoding. */
export const DEFAULT_MAX_PIXELS = 100_000_000;
/** The link threshold of `cluster-features` (a model's own is used for photos). */
export const DEFAULT_MIN_SIM = 0.5;
