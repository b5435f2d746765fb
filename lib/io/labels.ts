/**
 * Label files: one label per line, any strings.
 *
 * @module
 */

import { InputError } from "../errors.ts";

/**
 * Splits label-file text into labels (one per line; a final newline is optional; `\r\n`
 * is accepted).
 *
 * @param text The file's text.
 * @param name The file name for error messages.
 * @param expected The number of labels required, if known.
 * @returns The labels.
 * @throws {InputError} On an empty line or a count other than `expected`.
 *
 * @example
 * ```ts
 * import { parseLabels } from "./labels.ts";
 * console.log(parseLabels("alice\nbob\n", "l.txt", 2)); // ["alice", "bob"]
 * ```
 */
export function parseLabels(text: string, name: string, expected?: number): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const empty = lines.findIndex((l) => l.trim() === "");
  if (empty >= 0) throw new InputError(name, `line ${empty + 1} is empty (one label per line)`);
  if (expected !== undefined && lines.length !== expected) {
    throw new InputError(name, `has ${lines.length} labels but the features have ${expected} rows`);
  }
  return lines.map((l) => l.trim());
}

/**
 * Reads a label file (see {@link parseLabels}).
 *
 * @param path The file.
 * @param expected The number of labels required, if known.
 * @returns The labels.
 * @throws {InputError} If the file cannot be read or is malformed.
 *
 * @example
 * ```ts ignore
 * import { readLabels } from "./labels.ts";
 * const labels = await readLabels("labels.txt", 10000);
 * ```
 */
export async function readLabels(path: string, expected?: number): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new InputError(path, `cannot read: ${(e as Error).message}`);
  }
  return parseLabels(text, path, expected);
}
