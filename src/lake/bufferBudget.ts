/**
 * One memory budget shared by every lake writer of the process: rows held in buffers or in rolls
 * not yet committed. With many partitions catching up at once, each writer would otherwise hold up
 * to two files' worth of rows, and memory would grow with the number of partitions; over budget,
 * writers roll early (smaller files, bounded memory) and pause their partition until rows are freed.
 */
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

  take(rows: number): void {
    this.usedRows += rows;
  }

  /** Rows committed (or dropped): wakes every writer waiting for room once under the limit. */
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
