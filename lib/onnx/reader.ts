/**
 * A minimal protocol-buffers reader: splits a message into its fields, keeping the bytes of
 * each, so that a message can be edited field by field and written back with
 * {@link encodeFields}.
 *
 * @module
 */

/** One field of a protobuf message as it appears on the wire. */
export interface ProtoField {
  /** Field number. */
  field: number;
  /** Wire type: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
  wire: 0 | 1 | 2 | 5;
  /** Varint value (wire 0). */
  int?: bigint;
  /** Payload bytes (wire 1, 2, 5), a view into the message. */
  bytes?: Uint8Array;
}

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let v = 0n, shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error("protobuf: truncated varint");
    const b = buf[pos++];
    v |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [v, pos];
    shift += 7n;
    if (shift > 70n) throw new Error("protobuf: varint too long");
  }
}

/**
 * Splits a message into its fields, in order.
 *
 * @param buf The message bytes.
 * @returns The fields; payloads are views into `buf`.
 * @throws {Error} If the bytes are not a well-formed message.
 *
 * @example
 * ```ts
 * import { decodeFields } from "./reader.ts";
 * const [f] = decodeFields(new Uint8Array([8, 150, 1]));
 * console.log(f.field, f.int); // 1 150n
 * ```
 */
export function decodeFields(buf: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p] = readVarint(buf, pos);
    pos = p;
    const field = Number(key >> 3n), wire = Number(key & 7n);
    if (field === 0) throw new Error("protobuf: field number 0");
    if (wire === 0) {
      const [v, q] = readVarint(buf, pos);
      pos = q;
      out.push({ field, wire, int: v });
    } else if (wire === 2) {
      const [len, q] = readVarint(buf, pos);
      const end = q + Number(len);
      if (end > buf.length) throw new Error("protobuf: length past the end");
      out.push({ field, wire, bytes: buf.subarray(q, end) });
      pos = end;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > buf.length) throw new Error("protobuf: truncated fixed field");
      out.push({ field, wire, bytes: buf.subarray(pos, pos + n) });
      pos += n;
    } else {
      throw new Error(`protobuf: unsupported wire type ${wire}`);
    }
  }
  return out;
}

function pushVarint(parts: number[], v: bigint): void {
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    parts.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  parts.push(Number(x));
}

/**
 * Writes fields back into a message (the inverse of {@link decodeFields}).
 *
 * @param fields The fields, in the order to write them.
 * @returns The message bytes.
 *
 * @example
 * ```ts
 * import { decodeFields, encodeFields } from "./reader.ts";
 * const bytes = new Uint8Array([8, 150, 1, 18, 1, 65]);
 * console.log(encodeFields(decodeFields(bytes))); // Uint8Array [8, 150, 1, 18, 1, 65]
 * ```
 */
export function encodeFields(fields: ProtoField[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (const f of fields) {
    const head: number[] = [];
    pushVarint(head, BigInt((f.field << 3) | f.wire));
    if (f.wire === 0) pushVarint(head, f.int ?? 0n);
    else if (f.wire === 2) pushVarint(head, BigInt(f.bytes!.length));
    const h = new Uint8Array(head);
    chunks.push(h);
    total += h.length;
    if (f.wire !== 0) {
      chunks.push(f.bytes!);
      total += f.bytes!.length;
    }
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * The UTF-8 text of a length-delimited field.
 *
 * @param f The field.
 * @returns Its text.
 *
 * @example
 * ```ts
 * import { decodeFields, fieldText } from "./reader.ts";
 * console.log(fieldText(decodeFields(new Uint8Array([10, 2, 104, 105]))[0])); // "hi"
 * ```
 */
export function fieldText(f: ProtoField): string {
  return new TextDecoder().decode(f.bytes);
}

/**
 * A length-delimited field holding text.
 *
 * @param field Field number.
 * @param text The text.
 * @returns The field.
 *
 * @example
 * ```ts
 * import { textField } from "./reader.ts";
 * console.log(textField(1, "x").bytes); // Uint8Array [120]
 * ```
 */
export function textField(field: number, text: string): ProtoField {
  return { field, wire: 2, bytes: new TextEncoder().encode(text) };
}

/**
 * Every field with a given number, in order.
 *
 * @param fields Decoded fields.
 * @param no Field number.
 * @returns The matching fields.
 *
 * @example
 * ```ts
 * import { decodeFields, fieldsNumbered } from "./reader.ts";
 * console.log(fieldsNumbered(decodeFields(new Uint8Array([8, 1, 16, 2, 8, 3])), 1).length); // 2
 * ```
 */
export function fieldsNumbered(fields: ProtoField[], no: number): ProtoField[] {
  return fields.filter((f) => f.field === no);
}

/**
 * The first field with a given number.
 *
 * @param fields Decoded fields.
 * @param no Field number.
 * @returns The field, or undefined.
 *
 * @example
 * ```ts
 * import { decodeFields, firstField } from "./reader.ts";
 * console.log(firstField(decodeFields(new Uint8Array([8, 1, 16, 2])), 2)?.int); // 2n
 * ```
 */
export function firstField(fields: ProtoField[], no: number): ProtoField | undefined {
  return fields.find((f) => f.field === no);
}

/**
 * The integers held by repeated varint fields, as signed 64-bit values: each field either one
 * varint or a packed list of them.
 *
 * @param fields The fields (one field number).
 * @returns Their values in order.
 *
 * @example
 * ```ts
 * import { decodeFields, varints } from "./reader.ts";
 * console.log(varints(decodeFields(new Uint8Array([8, 5, 10, 2, 1, 2])))); // [5n, 1n, 2n]
 * ```
 */
export function varints(fields: ProtoField[]): bigint[] {
  const out: bigint[] = [];
  for (const f of fields) {
    if (f.wire === 0) {
      out.push(BigInt.asIntN(64, f.int!));
      continue;
    }
    let v = 0n, shift = 0n;
    for (const b of f.bytes!) {
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (b < 0x80) {
        out.push(BigInt.asIntN(64, v));
        v = 0n;
        shift = 0n;
      }
    }
  }
  return out;
}
