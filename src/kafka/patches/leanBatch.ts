/**
 * kafkajs 2.2.4's consumer `Batch` (consumer/batch.js: the records of one partition of one fetch,
 * filtered), for the records of fetchRecordDecoder.ts: the same filtering and the same answers,
 * with offsets compared as numbers where kafkajs builds a Long from a string per record.
 *
 * - records below the fetched offset are dropped (a compressed batch can start before it);
 * - records of aborted transactions are dropped by abortedTransactions.ts (the Java client's rule,
 *   the fix patches/consumerFixes.ts installs for kafkajs's own Batch);
 * - control records are dropped, but `lastOffset()` still covers them, so a fetch that held only
 *   markers moves the position past them.
 *
 * `createBatchShim` returns the constructor patches/fetchFastPaths.ts puts in kafkajs's place: lean
 * records get a LeanBatch; anything else (records kafkajs decoded itself, offsets beyond 2^53) gets
 * kafkajs's Batch.
 */
import { filterAbortedRecords, type AbortedTransaction } from './abortedTransactions.js';
import { areLeanRecords, type LeanRecord } from './fetchRecordDecoder.js';

export interface PartitionData {
  partition: number;
  highWatermark: string;
  abortedTransactions?: AbortedTransaction[] | null;
  messages: unknown[];
}

export type BatchConstructor = new (topic: string, fetchedOffset: string, partitionData: PartitionData) => unknown;

/** Marks the shim across module instances, so an installer can tell its own work in the require cache. */
export const LEAN_BATCH_SHIM = Symbol.for('sdp.kafka.leanBatchShim');

export class LeanBatch {
  readonly topic: string;
  readonly partition: number;
  readonly fetchedOffset: string;
  readonly highWatermark: string;
  readonly rawMessages: LeanRecord[];
  readonly messagesWithinOffset: LeanRecord[];
  readonly messages: LeanRecord[];
  private readonly highWatermarkNumber: number;

  /** `fetchedOffset` and `highWatermark` must be safe integers (createBatchShim checks). */
  constructor(topic: string, fetchedOffset: string, partitionData: PartitionData) {
    this.topic = topic;
    this.partition = partitionData.partition;
    this.fetchedOffset = fetchedOffset;
    this.highWatermark = partitionData.highWatermark;
    this.highWatermarkNumber = Number(partitionData.highWatermark);
    const raw = partitionData.messages as LeanRecord[];
    this.rawMessages = raw;
    const fetched = Number(fetchedOffset);
    let below = 0;
    for (let i = 0; i < raw.length; i++) if (raw[i]!.offsetNumber < fetched) below++;
    this.messagesWithinOffset = below === 0 ? raw : raw.filter((m) => m.offsetNumber >= fetched);
    const committed = filterAbortedRecords({
      messages: this.messagesWithinOffset,
      abortedTransactions: partitionData.abortedTransactions,
    });
    let control = 0;
    for (let i = 0; i < committed.length; i++) if (committed[i]!.batchContext.isControlBatch) control++;
    this.messages = control === 0 ? committed : committed.filter((m) => !m.batchContext.isControlBatch);
  }

  isEmpty(): boolean {
    return this.messages.length === 0;
  }

  isEmptyIncludingFiltered(): boolean {
    return this.messagesWithinOffset.length === 0;
  }

  isEmptyDueToFiltering(): boolean {
    return this.isEmpty() && this.rawMessages.length > 0;
  }

  isEmptyControlRecord(): boolean {
    return this.isEmpty() && this.messagesWithinOffset.some((m) => m.batchContext.isControlBatch);
  }

  isEmptyDueToLogCompactedMessages(): boolean {
    return this.rawMessages.length > 0 && this.isEmptyIncludingFiltered();
  }

  firstOffset(): string | null {
    return this.isEmptyIncludingFiltered() ? null : this.messagesWithinOffset[0]!.offset;
  }

  private lastOffsetNumber(): number {
    if (this.isEmptyDueToLogCompactedMessages()) return Number(this.fetchedOffset);
    if (this.isEmptyIncludingFiltered()) return this.highWatermarkNumber - 1;
    return this.messagesWithinOffset[this.messagesWithinOffset.length - 1]!.offsetNumber;
  }

  lastOffset(): string {
    if (this.isEmptyDueToLogCompactedMessages()) return this.fetchedOffset;
    return String(this.lastOffsetNumber());
  }

  /** Lag after the last offset of the batch (kafkajs: "high"). */
  offsetLag(): string {
    return String(this.highWatermarkNumber - 1 - this.lastOffsetNumber());
  }

  /** Lag from the first offset of the batch. */
  offsetLagLow(): string {
    if (this.isEmptyIncludingFiltered()) return '0';
    return String(this.highWatermarkNumber - 1 - this.messagesWithinOffset[0]!.offsetNumber);
  }
}

function isSafeOffset(value: string): boolean {
  const n = Number(value);
  return Number.isSafeInteger(n) && String(n) === value;
}

/** The constructor to install as kafkajs's Batch: a LeanBatch where it gives the same answers, kafkajs's otherwise. */
export function createBatchShim(KafkajsBatch: BatchConstructor): BatchConstructor {
  function Batch(topic: string, fetchedOffset: string, partitionData: PartitionData): unknown {
    const messages = partitionData.messages;
    const fetched = String(fetchedOffset);
    const lean =
      (messages.length === 0 || areLeanRecords(messages)) &&
      isSafeOffset(fetched) &&
      isSafeOffset(String(partitionData.highWatermark));
    return lean ? new LeanBatch(topic, fetched, partitionData) : new KafkajsBatch(topic, fetchedOffset, partitionData);
  }
  (Batch as unknown as Record<symbol, unknown>)[LEAN_BATCH_SHIM] = KafkajsBatch;
  return Batch as unknown as BatchConstructor;
}
