/**
 * What each transactional producer of the pool is committing, shared between the producer-pool
 * actor and its threads (a SharedArrayBuffer), so that a batch whose thread died during EndTxn is
 * neither lost nor sent twice:
 *
 * - a thread marks a lane "committing attempt A" right before EndTxn, "committed" once it
 *   succeeded (an attempt id is unique per run of a task: a batch sent again gets a new one);
 * - when a thread dies, Piscina fails its tasks; for a task still marked committing, the pool
 *   waits for the thread that takes over the slot: before it re-initialises the lane's
 *   transactional id (which would erase the answer), it asks the coordinator whether that
 *   transaction committed and records the resolution;
 * - the pool then counts the batch as acknowledged, or sends it again.
 *
 * Per lane: [attemptId, phase, resolvedAttemptId, resolution]. The resolution fields are written only by
 * a replacement thread, so a new task on the lane does not overwrite them before the pool reads.
 */
const FIELDS = 4;
const TASK = 0;
const PHASE = 1;
const RESOLVED_TASK = 2;
const RESOLUTION = 3;

const IDLE = 0;
const COMMITTING = 1;
const COMMITTED = 2;

const RESOLVED_COMMITTED = 1;
const RESOLVED_NOT_COMMITTED = 2;

export type AttemptCommitState = 'committed' | 'committing' | 'not-committed' | 'unknown';

export class CommitTable {
  private readonly cells: Int32Array;

  static allocate(slots: number, lanesPerSlot: number): SharedArrayBuffer {
    return new SharedArrayBuffer(slots * lanesPerSlot * FIELDS * Int32Array.BYTES_PER_ELEMENT);
  }

  constructor(
    buffer: SharedArrayBuffer,
    private readonly lanesPerSlot: number,
  ) {
    this.cells = new Int32Array(buffer);
  }

  private base(slot: number, lane: number): number {
    return (slot * this.lanesPerSlot + lane) * FIELDS;
  }

  markCommitting(slot: number, lane: number, attemptId: number): void {
    const b = this.base(slot, lane);
    Atomics.store(this.cells, b + TASK, attemptId);
    Atomics.store(this.cells, b + PHASE, COMMITTING);
  }

  markCommitted(slot: number, lane: number): void {
    Atomics.store(this.cells, this.base(slot, lane) + PHASE, COMMITTED);
  }

  markIdle(slot: number, lane: number): void {
    Atomics.store(this.cells, this.base(slot, lane) + PHASE, IDLE);
  }

  /** The task a dead predecessor left committing on this lane, if any. */
  committingAttempt(slot: number, lane: number): number | undefined {
    const b = this.base(slot, lane);
    return Atomics.load(this.cells, b + PHASE) === COMMITTING ? Atomics.load(this.cells, b + TASK) : undefined;
  }

  /** Records what the coordinator said about the lane's committing task, and clears the lane. */
  resolve(slot: number, lane: number, attemptId: number, committed: boolean): void {
    const b = this.base(slot, lane);
    Atomics.store(this.cells, b + RESOLVED_TASK, attemptId);
    Atomics.store(this.cells, b + RESOLUTION, committed ? RESOLVED_COMMITTED : RESOLVED_NOT_COMMITTED);
    Atomics.store(this.cells, b + PHASE, committed ? COMMITTED : IDLE);
  }

  /**
   * What is known of a failed attempt: 'committed' (count it), 'committing' (wait for the
   * replacement thread to resolve it), 'not-committed' (send it again), 'unknown' (it never
   * reached EndTxn: send it again).
   */
  stateOf(attemptId: number): AttemptCommitState {
    for (let b = 0; b < this.cells.length; b += FIELDS) {
      if (Atomics.load(this.cells, b + RESOLVED_TASK) === attemptId) {
        return Atomics.load(this.cells, b + RESOLUTION) === RESOLVED_COMMITTED ? 'committed' : 'not-committed';
      }
    }
    for (let b = 0; b < this.cells.length; b += FIELDS) {
      if (Atomics.load(this.cells, b + TASK) !== attemptId) continue;
      const phase = Atomics.load(this.cells, b + PHASE);
      if (phase === COMMITTED) return 'committed';
      if (phase === COMMITTING) return 'committing';
      return 'not-committed';
    }
    return 'unknown';
  }
}
