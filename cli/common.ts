/**
 * What the commands share: option parsing with clear errors, the usage-error exit, face ids,
 * metric lines.
 *
 * @module
 */

import { InputError } from "../lib/errors.ts";
import type { KnnDevice } from "../lib/knn/select.ts";
import type { ClusteringMetrics } from "../lib/metrics/metrics.ts";

/** The devices `--device` takes. */
export const DEVICES: readonly KnnDevice[] = ["auto", "gpu", "cpu"];

/**
 * Prints a usage error.
 *
 * @param msg What is wrong.
 * @returns The exit code of bad usage (2).
 */
export function fail(msg: string): number {
  console.error(`error: ${msg}`);
  return 2;
}

/**
 * An integer option.
 *
 * @param value The text given, if any.
 * @param name The option, without dashes.
 * @param def Its value when not given.
 * @returns The integer.
 * @throws {InputError} For text that is not an integer.
 */
export function intOption<T extends number | undefined>(
  value: string | undefined,
  name: string,
  def: T,
): number | T {
  if (value === undefined) return def;
  const v = Number(value);
  if (!Number.isInteger(v)) {
    throw new InputError(`--${name}`, `expected an integer, got '${value}'`);
  }
  return v;
}

/**
 * `--k`: an integer ≥ 1.
 *
 * @param value The text given, if any.
 * @param def Its value when not given.
 * @returns k.
 * @throws {InputError} For k < 1 or not an integer.
 */
export function kOption<T extends number | undefined>(
  value: string | undefined,
  def: T,
): number | T {
  const k = intOption(value, "k", def);
  if (k !== undefined && k < 1) throw new InputError("--k", `must be ≥ 1, got ${k}`);
  return k;
}

/**
 * `--min-sim` in [-1, 1].
 *
 * @param value The text given, if any.
 * @returns The threshold, or undefined when not given.
 * @throws {InputError} Outside [-1, 1].
 */
export function minSimOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!(v >= -1 && v <= 1)) {
    throw new InputError("--min-sim", `must lie in [-1, 1], got '${value}'`);
  }
  return v;
}

/**
 * A value that must be one of `choices`.
 *
 * @param value The text given.
 * @param name The option, without dashes.
 * @param choices What it may be.
 * @returns The value.
 * @throws {InputError} For any other value.
 */
export function choiceOption<T extends string>(
  value: string,
  name: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(value)) {
    const list = `${choices.slice(0, -1).join(", ")} or ${choices[choices.length - 1]}`;
    throw new InputError(`--${name}`, `expected ${list}, got '${value}'`);
  }
  return value as T;
}

/**
 * Face ids from the command line (`12 13` or `12,13`).
 *
 * @param args The arguments.
 * @returns The ids.
 * @throws {InputError} For one that is not a number.
 */
export function faceIds(args: string[]): number[] {
  return args.flatMap((a) => a.split(",")).filter((a) => a !== "").map((a) => {
    if (!/^\d+$/.test(a)) {
      throw new InputError(`face '${a}'`, "a face id is a number (see `faces`)");
    }
    return Number(a);
  });
}

/**
 * The metrics as three lines.
 *
 * @param m Pairwise, BCubed, NMI.
 * @returns The lines.
 */
export function metricLines(m: ClusteringMetrics): string[] {
  const f = (x: number) => x.toFixed(4);
  return [
    `pairwise P/R/F ${f(m.pairwise.precision)} ${f(m.pairwise.recall)} ${f(m.pairwise.f)}`,
    `BCubed   P/R/F ${f(m.bcubed.precision)} ${f(m.bcubed.recall)} ${f(m.bcubed.f)}`,
    `NMI ${f(m.nmi)}`,
  ];
}
