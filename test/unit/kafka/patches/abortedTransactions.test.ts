import { describe, expect, it } from 'vitest';
import {
  filterAbortedRecords,
  isAbortMarkerKey,
  type AbortedTransaction,
  type FetchedBatchContext,
  type FetchedRecord,
} from '../../../../src/kafka/patches/abortedTransactions.js';

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);

/** A fetch as kafkajs flattens it: record batches in offset order, records sharing their batch's context. */
class FetchBuilder {
  readonly records: FetchedRecord[] = [];
  private nextOffset: bigint;

  constructor(firstOffset: number) {
    this.nextOffset = BigInt(firstOffset);
  }

  private batch(producerId: string, count: number, options: { transactional: boolean; control?: Buffer }): this {
    const context: FetchedBatchContext = {
      firstOffset: this.nextOffset.toString(),
      lastOffsetDelta: count - 1,
      producerId,
      inTransaction: options.transactional,
      isControlBatch: options.control !== undefined,
    };
    for (let i = 0; i < count; i++) {
      this.records.push({
        offset: (this.nextOffset + BigInt(i)).toString(),
        key: options.control ?? Buffer.from(`k${i}`),
        batchContext: context,
      });
    }
    this.nextOffset += BigInt(count);
    return this;
  }

  /** A transactional data batch of `count` records. */
  data(producerId: string, count = 1): this {
    return this.batch(producerId, count, { transactional: true });
  }

  plain(count = 1): this {
    return this.batch('-1', count, { transactional: false });
  }

  abort(producerId: string): this {
    return this.batch(producerId, 1, { transactional: true, control: ABORT });
  }

  commit(producerId: string): this {
    return this.batch(producerId, 1, { transactional: true, control: COMMIT });
  }

  get offset(): number {
    return Number(this.nextOffset);
  }
}

function keptOffsets(records: FetchedRecord[], aborted: AbortedTransaction[]): number[] {
  return filterAbortedRecords({ messages: records, abortedTransactions: aborted })
    .filter((r) => !r.batchContext.isControlBatch)
    .map((r) => Number(r.offset));
}

describe('filterAbortedRecords (the Java client rule)', () => {
  it('drops every aborted transaction that began before the first record, listed in any order', () => {
    // Producers 1, 2 and 4 aborted transactions that began at 3, 5 and 1 (before this fetch at 100);
    // producer 3's transaction is committed. Their batches interleave.
    const fetch = new FetchBuilder(100)
      .data('1', 3)
      .data('2', 2)
      .data('3', 4)
      .data('4', 1)
      .data('1', 2)
      .data('3', 1)
      .data('2', 5)
      .data('4', 2);
    const committedOffsets = fetch.records
      .filter((r) => r.batchContext.producerId === '3')
      .map((r) => Number(r.offset));
    fetch.abort('2').commit('3').abort('1').abort('4');
    const aborted = [
      { producerId: '2', firstOffset: '5' },
      { producerId: '4', firstOffset: '1' },
      { producerId: '1', firstOffset: '3' },
    ];
    expect(keptOffsets(fetch.records, aborted)).toEqual(committedOffsets);
    // Any order of the list gives the same answer.
    expect(keptOffsets(fetch.records, [...aborted].reverse())).toEqual(committedOffsets);
  });

  it('activates a transaction that begins inside a batch (first offset between base and last offset)', () => {
    const fetch = new FetchBuilder(0).plain(3).data('7', 4).data('8', 2).abort('7').commit('8');
    // Producer 7's transaction begins at offset 3 (its first record), the batch 3..6.
    expect(keptOffsets(fetch.records, [{ producerId: '7', firstOffset: '3' }])).toEqual([0, 1, 2, 7, 8]);
  });

  it('keeps records of a producer once its abort marker has passed, and drops its next aborted transaction', () => {
    const fetch = new FetchBuilder(10)
      .data('5', 2)
      .abort('5')
      .data('5', 2)
      .commit('5')
      .data('5', 3)
      .abort('5')
      .plain(1);
    // 10,11 aborted; marker 12; 13,14 committed; marker 15; 16..18 aborted; marker 19; 20 plain.
    expect(
      keptOffsets(fetch.records, [
        { producerId: '5', firstOffset: '16' },
        { producerId: '5', firstOffset: '10' },
      ]),
    ).toEqual([13, 14, 20]);
  });

  it('does not drop a committed transaction of a producer whose earlier transaction, ended before the fetch, was aborted', () => {
    const fetch = new FetchBuilder(50).data('9', 3).commit('9');
    // The broker lists only transactions overlapping the fetch; an older one would end at a marker below 50.
    expect(keptOffsets(fetch.records, [])).toEqual([50, 51, 52]);
    expect(keptOffsets(fetch.records, [{ producerId: '8', firstOffset: '40' }])).toEqual([50, 51, 52]);
  });

  it('never drops non-transactional records, even of a producer id that is aborting', () => {
    const fetch = new FetchBuilder(0).data('3', 2);
    const context: FetchedBatchContext = {
      firstOffset: '2',
      lastOffsetDelta: 0,
      producerId: '3',
      inTransaction: false,
      isControlBatch: false,
    };
    fetch.records.push({ offset: '2', key: null, batchContext: context });
    expect(keptOffsets(fetch.records, [{ producerId: '3', firstOffset: '0' }])).toEqual([2]);
  });

  it('returns the records unchanged (same array) when nothing was aborted', () => {
    const fetch = new FetchBuilder(0).data('1', 3).commit('1');
    expect(filterAbortedRecords({ messages: fetch.records, abortedTransactions: [] })).toBe(fetch.records);
    expect(filterAbortedRecords({ messages: fetch.records })).toBe(fetch.records);
  });

  it('reads the control type from the key: ABORT is type 0, COMMIT type 1, anything shorter is neither', () => {
    expect(isAbortMarkerKey(ABORT)).toBe(true);
    expect(isAbortMarkerKey(Buffer.from([0, 1, 0, 0]))).toBe(true); // a later control record version
    expect(isAbortMarkerKey(COMMIT)).toBe(false);
    expect(isAbortMarkerKey(Buffer.from([0, 0]))).toBe(false);
    expect(isAbortMarkerKey(null)).toBe(false);
  });

  it('drops exactly the aborted transactions of four interleaving producers (randomised, against a model)', () => {
    for (let seed = 1; seed <= 50; seed++) {
      let s = seed;
      const random = (): number => {
        s = (s * 1103515245 + 12345) % 2 ** 31;
        return s / 2 ** 31;
      };
      // Model: each producer has an open transaction; the log is written in turns; the fetch
      // starts at a random offset; the broker lists aborted transactions overlapping the fetch.
      const log: Array<{ producer: string; count: number; control?: 'abort' | 'commit' }> = [];
      const open = new Map<string, boolean>(); // producer → will abort
      const txFirst = new Map<string, number>();
      let offset = 0;
      const txns: Array<{ producer: string; first: number; last: number; aborted: boolean }> = [];
      for (let step = 0; step < 120; step++) {
        const producer = String(1 + Math.floor(random() * 4));
        if (!open.has(producer)) {
          open.set(producer, random() < 1 / 3);
          txFirst.set(producer, offset);
        }
        if (random() < 0.25) {
          const aborted = open.get(producer)!;
          log.push({ producer, count: 1, control: aborted ? 'abort' : 'commit' });
          txns.push({ producer, first: txFirst.get(producer)!, last: offset, aborted });
          open.delete(producer);
          offset += 1;
        } else {
          const count = 1 + Math.floor(random() * 3);
          log.push({ producer, count });
          offset += count;
        }
      }
      // Close what is open so that everything fetched is decided (read_committed stops at the LSO).
      for (const [producer, aborted] of open) {
        log.push({ producer, count: 1, control: aborted ? 'abort' : 'commit' });
        txns.push({ producer, first: txFirst.get(producer)!, last: offset, aborted });
        offset += 1;
      }
      const fetch = new FetchBuilder(0);
      for (const entry of log) {
        if (entry.control === 'abort') fetch.abort(entry.producer);
        else if (entry.control === 'commit') fetch.commit(entry.producer);
        else fetch.data(entry.producer, entry.count);
      }
      // The fetch starts at a batch boundary somewhere in the first half.
      const bases = [...new Set(fetch.records.map((r) => Number(r.batchContext.firstOffset)))];
      const fetchedOffset = bases[Math.floor(random() * (bases.length / 2))]!;
      const fetched = fetch.records.filter((r) => Number(r.offset) >= fetchedOffset);
      const listed = txns
        .filter((t) => t.aborted && t.last >= fetchedOffset)
        .map((t) => ({ producerId: t.producer, firstOffset: String(t.first) }));
      listed.sort(() => random() - 0.5);
      const abortedOffsets = new Set<number>();
      for (const t of txns.filter((x) => x.aborted)) {
        for (const r of fetch.records) {
          const o = Number(r.offset);
          if (r.batchContext.producerId === t.producer && !r.batchContext.isControlBatch && o >= t.first && o < t.last)
            abortedOffsets.add(o);
        }
      }
      const expected = fetched
        .filter((r) => !r.batchContext.isControlBatch && !abortedOffsets.has(Number(r.offset)))
        .map((r) => Number(r.offset));
      expect(keptOffsets(fetched, listed), `seed ${seed}`).toEqual(expected);
    }
  });
});
