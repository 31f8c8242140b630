/**
 * Decides how many events of one stream are due, so that the real rate over any window is the
 * configured rate: the budget is the exact integral rate × elapsed time, never a per-tick
 * rounding that drifts. Rate 0 means unlimited. A finite `limit` caps the total (--count).
 */
export interface PacerOptions {
  ratePerSecond: number;
  startMs: number;
  /** Total events to produce; Infinity for no limit. */
  limit: number;
}

export class Pacer {
  readonly ratePerSecond: number;
  readonly limit: number;
  private readonly startMs: number;
  private issued = 0;

  constructor(options: PacerOptions) {
    this.ratePerSecond = options.ratePerSecond;
    this.startMs = options.startMs;
    this.limit = options.limit;
  }

  get unlimitedRate(): boolean {
    return this.ratePerSecond === 0;
  }

  /** Events issued so far. */
  get issuedTotal(): number {
    return this.issued;
  }

  get exhausted(): boolean {
    return this.issued >= this.limit;
  }

  /** Events that may be issued now (before `take`). For an unlimited rate, everything left. */
  due(nowMs: number): number {
    const left = this.limit - this.issued;
    if (left <= 0) return 0;
    if (this.unlimitedRate) return left;
    const budget = Math.floor((this.ratePerSecond * Math.max(0, nowMs - this.startMs)) / 1000);
    return Math.max(0, Math.min(left, budget - this.issued));
  }

  /** Records that `count` events were issued. */
  take(count: number): void {
    this.issued += count;
  }

  /** Milliseconds until at least one more event is due (0 when one is due now). */
  msUntilNext(nowMs: number): number {
    return this.msUntilDue(1, nowMs);
  }

  /** Milliseconds until `events` more events are due (or all that are left, if fewer). */
  msUntilDue(events: number, nowMs: number): number {
    if (this.exhausted) return Infinity;
    const wanted = Math.min(events, this.limit - this.issued);
    if (this.unlimitedRate || this.due(nowMs) >= wanted) return 0;
    const atMs = this.startMs + ((this.issued + wanted) * 1000) / this.ratePerSecond;
    // The estimate can be a millisecond off either way (floating point): settle it against due().
    let waitMs = Math.max(0, Math.ceil(atMs - nowMs));
    while (this.due(nowMs + waitMs) < wanted) waitMs++;
    while (waitMs > 0 && this.due(nowMs + waitMs - 1) >= wanted) waitMs--;
    return waitMs;
  }

  /** When the oldest event not yet issued became (or becomes) due; the start for an unlimited rate. */
  oldestDueAtMs(): number {
    if (this.unlimitedRate) return this.startMs;
    return this.startMs + ((this.issued + 1) * 1000) / this.ratePerSecond;
  }
}
