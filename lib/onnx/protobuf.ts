/**
 * A minimal protocol-buffers writer, enough to emit ONNX models.
 *
 * @module
 */

/**
 * Appends protobuf fields to a growing byte buffer.
 *
 * @example
 * ```ts
 * import { ProtoWriter } from "./protobuf.ts";
 * const w = new ProtoWriter();
 * w.int(1, 150);
 * console.log(w.finish()); // Uint8Array [8, 150, 1]
 * ```
 */
export class ProtoWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.#buf.subarray(0, this.#len));
    this.#buf = b;
  }

  #varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    this.#reserve(10);
    while (x >= 0x80n) {
      this.#buf[this.#len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.#buf[this.#len++] = Number(x);
  }

  #key(field: number, wire: number): void {
    this.#varint((field << 3) | wire);
  }

  /**
   * Writes a varint field (int32/int64/enum/bool; negative numbers as 64-bit).
   *
   * @param field Field number.
   * @param v The value.
   */
  int(field: number, v: number | bigint): void {
    this.#key(field, 0);
    this.#varint(v);
  }

  /**
   * Writes a 32-bit float field.
   *
   * @param field Field number.
   * @param v The value.
   */
  float(field: number, v: number): void {
    this.#key(field, 5);
    this.#reserve(4);
    new DataView(this.#buf.buffer).setFloat32(this.#len, v, true);
    this.#len += 4;
  }

  /**
   * Writes a length-delimited field (bytes, a string, or an embedded message).
   *
   * @param field Field number.
   * @param v Bytes, a string (UTF-8), or a writer whose contents form the message.
   */
  bytes(field: number, v: Uint8Array | string | ProtoWriter): void {
    const b = typeof v === "string"
      ? new TextEncoder().encode(v)
      : v instanceof ProtoWriter
      ? v.finish()
      : v;
    this.#key(field, 2);
    this.#varint(b.length);
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  /**
   * Writes a packed repeated varint field.
   *
   * @param field Field number.
   * @param values The values.
   */
  packedInts(field: number, values: ArrayLike<number | bigint>): void {
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.#varint(values[i]);
    this.bytes(field, inner);
  }

  /**
   * Writes a packed repeated float field.
   *
   * @param field Field number.
   * @param values The values.
   */
  packedFloats(field: number, values: ArrayLike<number>): void {
    const f = Float32Array.from(values);
    this.bytes(field, new Uint8Array(f.buffer));
  }

  /**
   * The bytes written so far.
   *
   * @returns A view of the buffer.
   */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}
