/**
 * Errors that name the input at fault.
 *
 * @module
 */

/**
 * An input (a file, an option, an array) that cannot be used, with the name of the
 * input and the problem, so that a message reads `feats.npy: contains NaN in row 3`.
 *
 * @example
 * ```ts
 * import { InputError } from "./errors.ts";
 * const err = new InputError("feats.npy", "not a NumPy .npy file");
 * console.log(err.message); // "feats.npy: not a NumPy .npy file"
 * ```
 */
export class InputError extends Error {
  /** The file, option or input the problem is about. */
  readonly source: string;
  /** The problem, without the source. */
  readonly problem: string;

  /**
   * Makes an error for `source` with the description `problem`.
   *
   * @param source The file or option name.
   * @param problem What is wrong with it.
   */
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = "InputError";
    this.source = source;
    this.problem = problem;
  }
}
