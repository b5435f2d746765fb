/**
 * A small seeded pseudo-random number generator (Mulberry32) so that Infomap runs are
 * reproducible for a given seed.
 *
 * @module
 */

/**
 * A seeded generator of 32-bit unsigned integers and floats in [0, 1).
 *
 * @example
 * ```ts
 * import { Prng } from "./prng.ts";
 * const a = new Prng(123), b = new Prng(123);
 * console.log(a.next() === b.next()); // true
 * ```
 */
export class Prng {
  #state: number;

  /**
   * @param seed Any integer; equal seeds give equal sequences.
   */
  constructor(seed: number) {
    this.#state = (seed >>> 0) ^ 0x9e3779b9;
  }

  /**
   * The next 32-bit unsigned integer.
   *
   * @returns An integer in [0, 2^32).
   */
  nextUint32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /**
   * The next float in [0, 1).
   *
   * @returns A float in [0, 1).
   */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Shuffles `arr` in place (Fisher–Yates).
   *
   * @param arr The array to shuffle.
   */
  shuffle(arr: Int32Array): void {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
  }
}
