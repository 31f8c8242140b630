/**
 * A stand-in for the checkpointer actor (test helper, not a test file). It records every `commit`
 * it receives, applies the event's tmp→final renames with fs.rename (so files become visible as
 * with the real one) and replies `{ checkpoints: n }`. The test can hold commits back, delay them,
 * or make the next ones fail (no reply, no rename: the sender's query times out, as when the real
 * checkpointer crashes). `read` answers the state the successful commits add up to.
 *
 * Commits are handled off the mailbox, so two commits in flight at once are seen as such
 * (`maxInFlightPerSink`), which a one-roll-at-a-time sender must never cause.
 *
 * `takeOver` answers where each partition's sinks stand in `initial` plus the commits so far, as the real
 * checkpointer answers from Kafka (architecture.md, "Growing past one machine"); `takeovers` records them.
 */
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type {
  CheckpointerMsg,
  CommitReply,
  PartitionLostMsg,
  TakeoverReply,
} from '../../../../src/actors/checkpointer.js';
import {
  aggSinkId,
  applyCheckpoint,
  rawSinkId,
  sinkOffset,
  emptyCheckpointState,
  type CheckpointEvent,
  type CheckpointState,
} from '../../../../src/checkpoint/checkpointState.js';
import { dispatch, spawn, type AnyRef, type Ref } from '../../../../src/system/nact.js';
import { gate, type Gate } from './testKit.js';

export interface FakeCheckpointer {
  ref: Ref<CheckpointerMsg>;
  /** Every commit received, in arrival order (failed ones included). */
  readonly received: CheckpointEvent[];
  /** The commits that succeeded (renames applied, reply sent), in completion order. */
  readonly committed: CheckpointEvent[];
  /** The commits that were made to fail. */
  readonly failed: CheckpointEvent[];
  /** Renames that could not be applied: a sender that named a file it did not write. */
  readonly renameErrors: unknown[];
  /** The highest number of commits of one sink in flight at the same time. */
  readonly maxInFlightPerSink: () => number;
  /** Commits arriving from now on wait until `release()` (refused ones too: they are answered then). */
  hold(): void;
  release(): void;
  /** Commits waiting for `release()` now. */
  waiting(): number;
  /** Every commit waits this long before its renames and reply. */
  delayMs: number;
  /** The next `count` commits get no reply and no renames. */
  failNext(count: number): void;
  /** The next `count` commits are applied (renames, `read`) but get no reply: a lost reply. */
  loseRepliesOfNext(count: number): void;
  /** The next `count` commits are answered as refused by Kafka (nothing renamed). */
  rejectNext(count: number, fenced: boolean): void;
  /** Every takeover asked, and every release, in order. */
  readonly takeovers: Array<{ topic: string; partitions: number[] }>;
  readonly releases: Array<{ topic: string; partitions: number[] }>;
  /** The next takeover answers this failure. */
  failNextTakeover(error: string): void;
  /** The next takeover answers this partition lost (another holder fenced its takeover). */
  fenceNextTakeoverOf(partition: number): void;
  /**
   * Tells the owner the partition's latest takeover named that Kafka refused a commit no roll reports (a stage-1
   * mark), as the real checkpointer does; false if that takeover named no owner.
   */
  loseTask(partition: number, reason: string): boolean;
}

export function spawnFakeCheckpointer(
  parent: AnyRef,
  lakeRoot: string,
  name = 'fake-checkpointer',
  sinks: { initial?: CheckpointState; windowTopic?: string } = {},
): FakeCheckpointer {
  const initial = sinks.initial ?? emptyCheckpointState();
  const received: CheckpointEvent[] = [];
  const takeovers: Array<{ topic: string; partitions: number[] }> = [];
  const releases: Array<{ topic: string; partitions: number[] }> = [];
  let takeoverFailure: string | undefined;
  let fencedPartition: number | undefined;
  let toReject = 0;
  let rejectFenced = false;
  let lastEpoch = 0;
  /** Per partition: the owner and task epoch of its latest takeover. */
  const tasks = new Map<number, { owner: AnyRef | undefined; taskEpoch: number }>();
  const committed: CheckpointEvent[] = [];
  const failed: CheckpointEvent[] = [];
  const renameErrors: unknown[] = [];
  const inFlight = new Map<string, number>();
  let maxInFlight = 0;
  let held: Gate | undefined;
  let waiting = 0;
  let toFail = 0;
  let toLoseReply = 0;

  const fake: FakeCheckpointer = {
    ref: undefined as unknown as Ref<CheckpointerMsg>,
    received,
    committed,
    failed,
    renameErrors,
    maxInFlightPerSink: () => maxInFlight,
    hold() {
      held ??= gate();
    },
    release() {
      held?.open();
      held = undefined;
    },
    waiting: () => waiting,
    delayMs: 0,
    failNext(count) {
      toFail = count;
    },
    loseRepliesOfNext(count) {
      toLoseReply = count;
    },
    rejectNext(count, fenced) {
      toReject = count;
      rejectFenced = fenced;
    },
    takeovers,
    releases,
    failNextTakeover(error) {
      takeoverFailure = error;
    },
    fenceNextTakeoverOf(partition) {
      fencedPartition = partition;
    },
    loseTask(partition, reason) {
      const task = tasks.get(partition);
      if (!task?.owner) return false;
      const lost: PartitionLostMsg = { type: 'partitionLost', partition, taskEpoch: task.taskEpoch, reason };
      dispatch(task.owner as Ref<PartitionLostMsg>, lost);
      return true;
    },
  };

  async function complete(
    event: CheckpointEvent,
    waitFor: Gate | undefined,
    sender: Ref<unknown>,
    loseReply: boolean,
  ): Promise<void> {
    if (waitFor) {
      waiting += 1;
      await waitFor.promise;
      waiting -= 1;
    }
    if (fake.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fake.delayMs));
    for (const { from, to } of event.renames) {
      await mkdir(dirname(join(lakeRoot, to)), { recursive: true }); // the unit, as the real checkpointer makes it
      await rename(join(lakeRoot, from), join(lakeRoot, to));
    }
    committed.push(event);
    inFlight.set(event.sink, (inFlight.get(event.sink) ?? 1) - 1);
    if (!loseReply) dispatch<CommitReply>(sender as Ref<CommitReply>, { checkpoints: committed.length });
  }

  fake.ref = spawn<undefined, CheckpointerMsg>(
    parent,
    (state, msg, ctx) => {
      if (msg.type === 'read') {
        // The state the committed events add up to, as the real checkpointer answers it.
        if (ctx.sender)
          dispatch<CheckpointState>(ctx.sender as Ref<CheckpointState>, committed.reduce(applyCheckpoint, initial));
        return state;
      }
      if (msg.type === 'takeOver') {
        takeovers.push({ topic: msg.topic, partitions: [...msg.partitions] });
        const now = committed.reduce(applyCheckpoint, initial);
        const answer: TakeoverReply = takeoverFailure
          ? { ok: false, error: takeoverFailure }
          : {
              ok: true,
              partitions: msg.partitions
                .filter((p) => p !== fencedPartition)
                .map((partition) => {
                  lastEpoch += 1;
                  tasks.set(partition, { owner: msg.owner, taskEpoch: lastEpoch });
                  const agg = sinks.windowTopic === msg.topic ? sinkOffset(now, aggSinkId(msg.topic), partition) : null;
                  return {
                    partition,
                    taskEpoch: lastEpoch,
                    raw: sinkOffset(now, rawSinkId(msg.topic, partition), partition),
                    agg,
                  };
                }),
              lost: msg.partitions
                .filter((p) => p === fencedPartition)
                .map((partition) => ({ partition, reason: 'taken by another holder' })),
            };
        takeoverFailure = undefined;
        fencedPartition = undefined;
        if (ctx.sender) dispatch<TakeoverReply>(ctx.sender as Ref<TakeoverReply>, answer);
        return state;
      }
      if (msg.type === 'release') {
        releases.push({ topic: msg.topic, partitions: [...msg.partitions] });
        return state;
      }
      if (msg.type !== 'commit') return state;
      const event = structuredClone(msg.event);
      received.push(event);
      if (toReject > 0) {
        toReject -= 1;
        failed.push(event);
        const sender = ctx.sender as Ref<CommitReply> | undefined;
        const refusal: CommitReply = { rejected: 'INVALID_PRODUCER_EPOCH', fenced: rejectFenced };
        // Held commits are refused on release, as a transaction that was under way.
        if (sender) void (held?.promise ?? Promise.resolve()).then(() => dispatch<CommitReply>(sender, refusal));
        return state;
      }
      if (toFail > 0) {
        toFail -= 1;
        failed.push(event);
        return state;
      }
      const n = (inFlight.get(event.sink) ?? 0) + 1;
      inFlight.set(event.sink, n);
      maxInFlight = Math.max(maxInFlight, n);
      const sender = ctx.sender;
      const loseReply = toLoseReply > 0;
      if (loseReply) toLoseReply -= 1;
      if (sender) {
        // No reply on a failed rename: the sender sees a failed commit, the test sees renameErrors.
        complete(event, held, sender, loseReply).catch((err: unknown) => renameErrors.push(err));
      }
      return state;
    },
    name,
  );
  return fake;
}
