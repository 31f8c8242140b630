/**
 * Which records of a read_committed fetch belong to aborted transactions, decided as the Java
 * client decides it (`CompletedFetch.nextFetchedRecord`): the fetch response lists the aborted
 * transactions (producer id, first offset) that overlap it; walking the record batches in offset
 * order, every listed transaction whose first offset is at or below the batch's last offset makes
 * its producer "aborted", the producer's ABORT marker (a control batch) ends that, and a
 * transactional data batch of an aborted producer is dropped whole.
 *
 * kafkajs 2.2.4's own filter (`consumer/filterAbortedMessages.js`) activates at most one aborted
 * transaction per record, and in the order the broker listed them: when several aborted
 * transactions began before the fetch's first record, the records of all but one leaked.
 * patches/consumerFixes.ts puts this function in its place.
 *
 * Pure: the shape is kafkajs's (flattened records that share one `batchContext` object per record
 * batch), so the same function serves the patch and its tests.
 */

/** A record batch's header fields, as kafkajs's decoder keeps them on every record of the batch. */
export interface FetchedBatchContext {
  /** Base offset of the record batch (decimal int64). */
  firstOffset: string;
  lastOffsetDelta: number;
  /** -1 when the batch has no producer id. */
  producerId: string;
  inTransaction: boolean;
  isControlBatch: boolean;
}

export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  batchContext: FetchedBatchContext;
}

export interface AbortedTransaction {
  producerId: string;
  /** Offset of the transaction's first record (decimal int64). */
  firstOffset: string;
}

const ABORT_CONTROL_TYPE = 0;

/** A control record's key is (version int16, type int16); type 0 is ABORT, 1 is COMMIT. */
export function isAbortMarkerKey(key: Buffer | null | undefined): boolean {
  if (!key || key.length < 4) return false;
  return Buffer.from(key).readInt16BE(2) === ABORT_CONTROL_TYPE;
}

/**
 * The records that are not part of an aborted transaction, in their order. Control records are
 * kept (the caller drops them, as kafkajs's Batch does); `abortedTransactions` may come in any order.
 */
export function filterAbortedRecords<R extends FetchedRecord>({
  messages,
  abortedTransactions,
}: {
  messages: R[];
  abortedTransactions?: readonly AbortedTransaction[] | null;
}): R[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  // Ascending first offset: the Java client keeps them in a priority queue.
  const pending = abortedTransactions
    .map((t) => ({ producerId: String(t.producerId), firstOffset: BigInt(t.firstOffset) }))
    .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  let next = 0;
  const abortedProducers = new Set<string>();
  const kept: R[] = [];
  let context: FetchedBatchContext | undefined;
  let dropBatch = false;
  for (const message of messages) {
    const batch = message.batchContext;
    if (batch !== context) {
      context = batch;
      dropBatch = false;
      const producerId = String(batch.producerId);
      if (producerId !== '-1') {
        const lastOffset = BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta);
        while (next < pending.length && pending[next]!.firstOffset <= lastOffset)
          abortedProducers.add(pending[next++]!.producerId);
        // The first record of a control batch says what it is (Java: containsAbortMarker).
        if (batch.isControlBatch) {
          if (isAbortMarkerKey(message.key)) abortedProducers.delete(producerId);
        } else if (batch.inTransaction && abortedProducers.has(producerId)) {
          dropBatch = true;
        }
      }
    }
    if (!dropBatch) kept.push(message);
  }
  return kept;
}
