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

/**
 * A library that another live process is writing (a main job, a re-cluster): the change
 * asked for is refused, nothing is changed, and the message names the process.
 *
 * @example
 * ```ts
 * import { LibraryBusyError } from "./errors.ts";
 * const err = new LibraryBusyError("out/library.db", 4242, "2026-12-07T10:00:00.000Z");
 * console.log(err.pid, err instanceof Error); // 4242 true
 * ```
 */
export class LibraryBusyError extends InputError {
  /** The process that holds the library. */
  readonly pid: number;
  /** Since when (ISO time). */
  readonly since: string;

  /**
   * Makes the error for the library at `location`, held by process `pid` since `since`.
   *
   * @param location The library.
   * @param pid The process holding it.
   * @param since When it took it.
   */
  constructor(location: string, pid: number, since: string) {
    super(
      location,
      `another run (process ${pid}, since ${since}) is writing this library; try again when it has ended`,
    );
    this.name = "LibraryBusyError";
    this.pid = pid;
    this.since = since;
  }
}
