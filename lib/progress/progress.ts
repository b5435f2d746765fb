/**
 * Progress on the terminal: on a TTY one bar per stage, redrawn in place, with counts, rate
 * and time left; elsewhere (a log, a pipe) plain lines at most every few seconds and one when
 * a stage ends. Everything goes to stderr, so `--json` keeps stdout to its one summary.
 *
 * @module
 */

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Draw bars in place (a terminal). @default Deno.stderr.isTerminal() */
  tty?: boolean;
  /** Where text goes. @default stderr */
  write?: (text: string) => void;
  /** Clock in milliseconds. @default performance.now */
  now?: () => number;
  /** Seconds between plain lines when not a TTY. @default 5 */
  lineEvery?: number;
  /** Bar width in characters. @default 24 */
  width?: number;
}

/** Units per stage, for the text. */
const UNITS: Record<string, string> = {
  scan: "images found",
  faces: "photos",
  write: "faces placed",
  files: "output files checked",
  cluster: "faces clustered",
  report: "contact sheets",
  normalize: "faces",
  knn: "faces",
  links: "faces",
  infomap: "faces",
};

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/**
 * Reports `done` of `total` per stage (`total` 0: a count with no end known).
 *
 * @example
 * ```ts
 * import { Progress } from "./progress.ts";
 * const lines: string[] = [];
 * const p = new Progress({ tty: false, write: (t) => lines.push(t) });
 * p.update("faces", 0, 2);
 * p.update("faces", 2, 2);
 * p.end();
 * console.log(lines.at(-1)?.startsWith("faces: 2/2 photos")); // true
 * ```
 */
export class Progress {
  #tty: boolean;
  #write: (text: string) => void;
  #now: () => number;
  #lineEvery: number;
  #width: number;
  #stage: string | null = null;
  #start = 0;
  #last = -Infinity;
  #done = 0;
  #total = 0;
  #detail = "";

  /**
   * Makes a reporter; nothing is written until the first update.
   *
   * @param options Terminal or not, output, clock.
   */
  constructor(options: ProgressOptions = {}) {
    this.#tty = options.tty ?? Deno.stderr.isTerminal();
    const enc = new TextEncoder();
    this.#write = options.write ?? ((t) => Deno.stderr.writeSync(enc.encode(t)));
    this.#now = options.now ?? (() => performance.now());
    this.#lineEvery = (options.lineEvery ?? 5) * 1000;
    this.#width = options.width ?? 24;
  }

  #text(final: boolean): string {
    const secs = (this.#now() - this.#start) / 1000;
    const unit = UNITS[this.#stage!] ?? "";
    const rate = secs > 0 ? this.#done / secs : 0;
    if (this.#total <= 0) {
      const said = this.#detail ? ` (${this.#detail})` : "";
      return `${this.#stage}: ${this.#done} ${unit}${
        final ? ` in ${secs.toFixed(1)} s` : ""
      }${said}`;
    }
    const head = `${this.#stage}: ${this.#done}/${this.#total} ${unit}`;
    const more = this.#detail ? `; ${this.#detail}` : "";
    if (final) {
      // a rate over less than half a second says nothing true
      if (secs < 0.5) {
        return `${head} in ${secs.toFixed(1)} s${this.#detail ? ` (${this.#detail})` : ""}`;
      }
      return `${head} in ${secs.toFixed(1)} s (${rate.toFixed(1)}/s${more})`;
    }
    const left = rate > 0 ? (this.#total - this.#done) / rate : Infinity;
    return `${head} (${rate.toFixed(1)}/s, ${clock(left)} left${more})`;
  }

  #bar(): string {
    const frac = this.#total > 0 ? Math.min(1, this.#done / this.#total) : 0;
    const full = Math.round(frac * this.#width);
    return `[${"#".repeat(full)}${".".repeat(this.#width - full)}] `;
  }

  /**
   * Reports progress of a stage; a new stage name ends the previous stage.
   *
   * @param stage The stage.
   * @param done Items done.
   * @param total Items in all (0 when unknown).
   * @param detail More text for the line (e.g. seconds per sub-stage).
   */
  update(stage: string, done: number, total: number, detail = ""): void {
    if (stage !== this.#stage) {
      this.end();
      this.#stage = stage;
      this.#start = this.#now();
      // plain lines: the first only after lineEvery, so that short stages print one line
      this.#last = this.#tty ? -Infinity : this.#start;
    }
    this.#done = done;
    this.#total = total;
    this.#detail = detail;
    const now = this.#now();
    if (this.#tty) {
      if (now - this.#last < 100 && done !== total) return;
      this.#last = now;
      this.#write(`\r\x1b[2K${this.#bar()}${this.#text(false)}`);
    } else if (now - this.#last >= this.#lineEvery && done < total) {
      this.#last = now;
      this.#write(this.#text(false) + "\n");
    }
  }

  /**
   * Notes a stage that has no count (kNN, Infomap) and how long it took.
   *
   * @param stage The stage.
   * @param seconds Its duration.
   * @param detail More text.
   */
  note(stage: string, seconds: number, detail = ""): void {
    this.end();
    this.#write(`${stage}: ${seconds.toFixed(2)} s${detail ? `, ${detail}` : ""}\n`);
  }

  /** Ends the current stage with its final line. */
  end(): void {
    if (this.#stage === null) return;
    const line = this.#text(true);
    this.#write(this.#tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    this.#stage = null;
    this.#detail = "";
  }
}
