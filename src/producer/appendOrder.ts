/**
 * Keeps a thread's batches in the partitions in the order it generated them. A thread may have
 * several transactions in flight, on several producers (lanes.ts): without this, a later batch's
 * Produce could land before an earlier one's, and a device's readings would go back in time in its
 * partition (architecture.md, "Data flow"). A batch takes a turn when it is generated and sends once
 * every earlier batch's records are written (acknowledged) or failed; the commits still overlap.
 */
export interface AppendTurn {
  /** Resolves when every earlier turn is done. */
  readonly ready: Promise<void>;
  /** This batch's records are written (or will never be): the next turn may send. Idempotent. */
  done(): void;
}

export class AppendOrder {
  private last: Promise<void> = Promise.resolve();

  /** A turn after every turn taken before; take it right when the batch is generated. */
  take(): AppendTurn {
    const ready = this.last;
    let done!: () => void;
    this.last = new Promise<void>((resolve) => (done = resolve));
    return { ready, done };
  }
}
