/**
 * Reading and writing NumPy `.npy` files (format versions 1–3) holding a 2-D matrix.
 *
 * @module
 */

import { InputError } from "../errors.ts";

/** A dense row-major matrix of float32 values. */
export interface Matrix {
  /** Number of rows. */
  rows: number;
  /** Number of columns. */
  cols: number;
  /** `rows * cols` values, row after row. */
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** Fields of an .npy header dictionary. */
interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(text: string, name: string): NpyHeader {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) {
    throw new InputError(name, `malformed .npy header ${JSON.stringify(text.trim())}`);
  }
  const dims = shape[1].split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  const parsed = dims.map((s) => {
    if (!/^\d+L?$/.test(s)) throw new InputError(name, `malformed shape (${shape[1]})`);
    return parseInt(s, 10);
  });
  return { descr: descr[1], fortranOrder: fortran[1] === "True", shape: parsed };
}

/**
 * Parses the bytes of an `.npy` file holding an N×D little-endian float32 or float64
 * matrix in C order into a float32 {@link Matrix}.
 *
 * @param bytes The whole file.
 * @param name The file name used in error messages.
 * @returns The matrix (float64 input is converted to float32).
 * @throws {InputError} If the bytes are not such a file.
 *
 * @example
 * ```ts
 * import { encodeNpy, parseNpy } from "./npy.ts";
 * const m = parseNpy(encodeNpy({ rows: 1, cols: 2, data: new Float32Array([1, 2]) }), "x.npy");
 * console.log(m.rows, m.cols); // 1 2
 * ```
 */
export function parseNpy(bytes: Uint8Array, name: string): Matrix {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new InputError(name, "not a NumPy .npy file (missing \\x93NUMPY magic)");
  }
  const major = bytes[6];
  if (major < 1 || major > 3) {
    throw new InputError(name, `unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw new InputError(name, "truncated .npy header");
  const decoder = new TextDecoder(major === 3 ? "utf-8" : "latin1");
  const header = parseHeader(decoder.decode(bytes.subarray(headerStart, dataStart)), name);
  if (header.fortranOrder) {
    throw new InputError(name, "Fortran-ordered arrays are not supported (save in C order)");
  }
  let itemSize: number;
  if (header.descr === "<f4" || header.descr === "|f4") itemSize = 4;
  else if (header.descr === "<f8" || header.descr === "|f8") itemSize = 8;
  else {
    throw new InputError(
      name,
      `unsupported dtype '${header.descr}' (expected little-endian float32 '<f4' or float64 '<f8')`,
    );
  }
  if (header.shape.length !== 2) {
    throw new InputError(
      name,
      `expected a 2-D N×D array, got shape (${header.shape.join(", ")})`,
    );
  }
  const [rows, cols] = header.shape;
  if (rows < 1 || cols < 1) {
    throw new InputError(name, `empty array of shape (${rows}, ${cols})`);
  }
  const count = rows * cols;
  if (bytes.length - dataStart < count * itemSize) {
    throw new InputError(
      name,
      `truncated data: shape (${rows}, ${cols}) needs ${count * itemSize} bytes, file has ${
        bytes.length - dataStart
      }`,
    );
  }
  const data = new Float32Array(count);
  if (itemSize === 4) {
    if ((bytes.byteOffset + dataStart) % 4 === 0) {
      data.set(new Float32Array(bytes.buffer, bytes.byteOffset + dataStart, count));
    } else {
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + 4 * i, true);
    }
  } else {
    if ((bytes.byteOffset + dataStart) % 8 === 0) {
      data.set(new Float64Array(bytes.buffer, bytes.byteOffset + dataStart, count));
    } else {
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(dataStart + 8 * i, true);
    }
  }
  return { rows, cols, data };
}

/**
 * Reads an `.npy` file (see {@link parseNpy}).
 *
 * @param path The file to read.
 * @returns The matrix.
 * @throws {InputError} If the file cannot be read or is not a usable `.npy`.
 *
 * @example
 * ```ts ignore
 * import { readNpy } from "./npy.ts";
 * const feats = await readNpy("feats.npy");
 * console.log(feats.rows, feats.cols);
 * ```
 */
export async function readNpy(path: string): Promise<Matrix> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new InputError(path, `cannot read: ${(e as Error).message}`);
  }
  return parseNpy(bytes, path);
}

/**
 * Encodes a float32 matrix as `.npy` version 1.0 bytes (`<f4`, C order).
 *
 * @param m The matrix.
 * @returns The file contents.
 *
 * @example
 * ```ts
 * import { encodeNpy } from "./npy.ts";
 * const bytes = encodeNpy({ rows: 2, cols: 1, data: new Float32Array([0.5, 1]) });
 * console.log(bytes.length); // 136
 * ```
 */
export function encodeNpy(m: Matrix): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${m.rows}, ${m.cols}), }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + m.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(
    new Uint8Array(m.data.buffer, m.data.byteOffset, m.rows * m.cols * 4),
    10 + header.length,
  );
  return out;
}
