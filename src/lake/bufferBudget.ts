/**
 * One memory budget shared by every lake writer of the process: rows held in buffers or in rolls
 * not yet written to their tmp files. With many partitions catching up at once, each writer would otherwise hold up
 * to two files' worth of rows, and memory would grow with the number of partitions. Near the budget
 * (`pressing`) writers roll early (smaller files, bounded memory); over it (`exceeded`) those that
 * cannot give rows back now pause their partition until rows are freed.
 */
/**
 * Past this share of the limit writers start rolling early (architecture.md, "Back-pressure and
 * shutdown"). At the limit itself every writer rolled at once: the encoder then worked while
 * fetching paused, and was idle while the buffers refilled. bench:etl, interleaved in one sitting,
 * median events/s of two series each: 210k and 173k at 3/4 against 166k and 183k at the limit,
 * with ~10% less CPU per event and a lower peak RSS.
 */
export const SOFT_SHARE = 0.75;

export class BufferBudget {
  private usedRows = 0;
  private waiters = new Set<() => void>();

  constructor(readonly limitRows: number) {}

  get used(): number {
    return this.usedRows;
  }

  get exceeded(): boolean {
    return this.usedRows >= this.limitRows;
  }

  /**
   * Past SOFT_SHARE of the limit: writers with enough rows roll early, so rolls reach the encoder while rows still
   * arrive.
   */
  get pressing(): boolean {
    return this.usedRows >= this.limitRows * SOFT_SHARE;
  }

  take(rows: number): void {
    this.usedRows += rows;
  }

  /** Rows written to tmp files (or dropped): wakes every writer waiting for room once under the limit. */
  release(rows: number): void {
    this.usedRows = Math.max(0, this.usedRows - rows);
    if (this.exceeded || this.waiters.size === 0) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Calls `wake` once the budget has room again (at once if it has). */
  whenRoom(wake: () => void): void {
    if (!this.exceeded) wake();
    else this.waiters.add(wake);
  }

  /** A writer that goes away stops waiting. */
  forget(wake: () => void): void {
    this.waiters.delete(wake);
  }
}
