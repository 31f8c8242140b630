/**
 * The (minute, url) windows of `verify`'s window check, counted in memory (architecture.md, "Verifying the lake").
 * Pure: windowCheck.ts feeds it the rows of the Parquet files and the aggregator's open windows; it gives the facts
 * windowRules.ts judges.
 *
 * A day at the default rates is ~430,000 windows, so a window is no object: a url is a number (its text is kept once),
 * a window is an index into typed columns (raw events, pv, open, agg rows, first agg file), found through one small
 * map per window start. ~50 bytes a window, where a row object per window and a path per agg row took ~300.
 */
import type { WindowExample, WindowFacts } from './windowRules.js';

const EXAMPLES = 10;
const INITIAL_WINDOWS = 1 << 12;
const NO_FILE = -1;

interface BadBound {
  minuteStartMs: number;
  minuteEndMs: number;
  url: string;
  file: number;
}

const byWindow = (a: { minuteStartMs: number; url: string }, b: { minuteStartMs: number; url: string }): number =>
  a.minuteStartMs !== b.minuteStartMs ? a.minuteStartMs - b.minuteStartMs : a.url < b.url ? -1 : a.url > b.url ? 1 : 0;

/** Keeps the first `EXAMPLES` of what it is offered, in (minute, url) order. */
function keepFirst<T extends { minuteStartMs: number; url: string }>(list: T[], item: T): void {
  if (list.length === EXAMPLES && byWindow(item, list[EXAMPLES - 1]!) >= 0) return;
  list.push(item);
  list.sort(byWindow);
  if (list.length > EXAMPLES) list.pop();
}

export class WindowTally {
  private readonly urlIds = new Map<string, number>();
  private readonly urls: string[] = [];
  /** window start (ms) → url id → window index. */
  private readonly index = new Map<number, Map<number, number>>();
  private size = 0;
  private raw = new Float64Array(INITIAL_WINDOWS);
  private pv = new Float64Array(INITIAL_WINDOWS);
  private open = new Float64Array(INITIAL_WINDOWS);
  private emitted = new Int32Array(INITIAL_WINDOWS);
  private firstFile = new Int32Array(INITIAL_WINDOWS).fill(NO_FILE);
  private aggRows = 0;
  private badBoundCount = 0;
  private readonly badBounds: BadBound[] = [];

  /**
   * @param windowSizeMs raw events fall into the window `floor(ts / size) * size`.
   * @param aggFiles the agg files in the order their indices are given to addAgg; a window names the lowest.
   */
  constructor(
    private readonly windowSizeMs: number,
    private readonly aggFiles: readonly string[],
  ) {}

  /** Windows held (every (minute, url) met in raw events, agg rows or open windows). */
  get windowCount(): number {
    return this.size;
  }

  private windowOf(startMs: number, url: string): number {
    let id = this.urlIds.get(url);
    if (id === undefined) {
      id = this.urls.length;
      this.urls.push(url);
      this.urlIds.set(url, id);
    }
    let urls = this.index.get(startMs);
    if (urls === undefined) this.index.set(startMs, (urls = new Map()));
    let w = urls.get(id);
    if (w === undefined) {
      if (this.size === this.raw.length) this.grow();
      w = this.size++;
      urls.set(id, w);
    }
    return w;
  }

  private grow(): void {
    const n = this.raw.length * 2;
    const wider = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.raw = wider(this.raw, (k) => new Float64Array(k));
    this.pv = wider(this.pv, (k) => new Float64Array(k));
    this.open = wider(this.open, (k) => new Float64Array(k));
    this.emitted = wider(this.emitted, (k) => new Int32Array(k));
    const files = new Int32Array(n).fill(NO_FILE);
    files.set(this.firstFile);
    this.firstFile = files;
  }

  /** One raw clickstream event. */
  addRaw(tsMs: number, url: string): void {
    const start = Math.floor(tsMs / this.windowSizeMs) * this.windowSizeMs;
    this.raw[this.windowOf(start, url)]! += 1;
  }

  /** One `clickstream_agg` row, of `aggFiles[file]`. */
  addAgg(minuteStartMs: number, minuteEndMs: number, url: string, pv: number, file: number): void {
    this.aggRows += 1;
    if (minuteEndMs !== minuteStartMs + this.windowSizeMs || minuteStartMs % this.windowSizeMs !== 0) {
      this.badBoundCount += 1;
      keepFirst(this.badBounds, { minuteStartMs, minuteEndMs, url, file });
    }
    const w = this.windowOf(minuteStartMs, url);
    this.pv[w]! += pv;
    this.emitted[w]! += 1;
    if (this.firstFile[w] === NO_FILE || file < this.firstFile[w]!) this.firstFile[w] = file;
  }

  /** A count of the aggregator's open window. */
  addOpen(startMs: number, url: string, count: number): void {
    this.open[this.windowOf(startMs, url)]! += count;
  }

  /** The facts; a window emitted twice comes without its files (`files: []`: windowCheck.ts reads them). */
  facts(): WindowFacts {
    const twice: Array<{ minuteStartMs: number; url: string; w: number }> = [];
    const over: WindowExample[] = [];
    const short: WindowExample[] = [];
    let twiceCount = 0;
    let overCount = 0;
    let shortCount = 0;
    let shortSum = 0;
    for (const [minuteStartMs, urls] of this.index)
      for (const [id, w] of urls) {
        const url = this.urls[id]!;
        if (this.emitted[w]! > 1) {
          twiceCount += 1;
          keepFirst(twice, { minuteStartMs, url, w });
        }
        const late = this.raw[w]! - this.pv[w]! - this.open[w]!;
        if (late === 0) continue;
        const file = this.firstFile[w]!;
        const example = {
          minuteStartMs,
          url,
          raw: this.raw[w]!,
          pv: this.pv[w]!,
          open: this.open[w]!,
          file: file === NO_FILE ? null : this.aggFiles[file]!,
        };
        if (late < 0) {
          overCount += 1;
          keepFirst(over, example);
        } else {
          shortCount += 1;
          shortSum += late;
          keepFirst(short, example);
        }
      }
    return {
      windows: this.aggRows,
      emittedTwice: {
        count: twiceCount,
        examples: twice.map(({ minuteStartMs, url }) => ({ minuteStartMs, url, files: [] })),
      },
      badBounds: {
        count: this.badBoundCount,
        examples: this.badBounds.map((b) => ({ ...b, file: this.aggFiles[b.file]! })),
      },
      overRaw: { count: overCount, examples: over },
      short: { count: shortCount, sum: shortSum, examples: short },
    };
  }
}
