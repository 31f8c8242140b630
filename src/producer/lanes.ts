/**
 * A fixed set of resources (a thread's transactional producers) handed out one task at a time:
 * `acquire` resolves with a free one, in request order, and `release` gives it back.
 */
export class Lanes<T> {
  private readonly free: T[];
  private readonly waiters: Array<(lane: T) => void> = [];

  constructor(lanes: readonly T[]) {
    if (lanes.length === 0) throw new RangeError('Lanes needs at least one lane');
    this.free = [...lanes];
  }

  acquire(): Promise<T> {
    const lane = this.free.shift();
    if (lane !== undefined) return Promise.resolve(lane);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(lane: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(lane);
    else this.free.push(lane);
  }

  get freeCount(): number {
    return this.free.length;
  }
}
