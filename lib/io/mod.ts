/**
 * Files in and out: NumPy `.npy` matrices, label files, link lists, images (decoded by
 * their bytes, turned upright, PNG written), all with errors that name the file.
 *
 * ```ts
 * import { encodeNpy, parseNpy } from "@facecluster/facecluster/io";
 * const m = parseNpy(encodeNpy({ rows: 1, cols: 2, data: new Float32Array([1, 2]) }), "m.npy");
 * console.log(m.rows, m.cols); // 1 2
 * ```
 *
 * @module
 */

export { encodeNpy, type Matrix, parseNpy, readNpy } from "./npy.ts";
export { parseLabels, readLabels } from "./labels.ts";
export { writeLinks } from "./links_file.ts";
export { decodeImage, type DecodeOptions, type ImageFormat, sniffFormat } from "../image/decode.ts";
export type { RgbImage } from "../image/types.ts";
export { encodePng } from "../image/encode_png.ts";
export { resizeBilinear } from "../image/transform.ts";
