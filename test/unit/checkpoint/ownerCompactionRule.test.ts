import { describe, expect, it } from 'vitest';
import {
  commitMergeOf,
  exchangeDecision,
  mergedRangeOf,
  planOwnerMerges,
  planUnitMerges,
  replacedByMerge,
} from '../../../src/checkpoint/ownerCompactionRule.js';
import { aggFileName, aggTaskFileName, formatOffset, rawFileName, rejectedFileName } from '../../../src/lake/layout.js';

const DT = '2026-12-01';
/** A day after DT: DT is an older day, merged as `lake compact` merges it. */
const LATER = '2026-12-02';
const KB = 1024;
const raw = (p: number, first: number, last: number, unit = `p${p}`) => ({
  path: `tables/clickstream/dt=${DT}/${unit}/${rawFileName(p, first, last)}`,
  sizeBytes: KB,
});
const rej = (topic: string, p: number, first: number, last: number) => ({
  path: `tables/_rejected/dt=${DT}/p${p}-${topic}/${rejectedFileName(topic, p, first, last)}`,
  sizeBytes: KB,
});

/** The aggregator's merged file of checkpoints first..last, as the planner names it (lake/aggFileName.ts). */
const aggMerged = (first: number, last: number) => `part-${formatOffset(first)}-${formatOffset(last)}.parquet`;
const planAggMerges = (files: Parameters<typeof planUnitMerges>[0], targetBytes: number, today: string) =>
  planUnitMerges(files, 'clickstream_agg', 'agg', targetBytes, today);
const planTaskMerges = (files: Parameters<typeof planUnitMerges>[0], r: number, targetBytes: number, today: string) =>
  planUnitMerges(files, 'clickstream_agg', `r${r}`, targetBytes, today);

describe('planUnitMerges: the process aggregator (etl.windows: process), unit agg', () => {
  const agg = (dt: string, name: string, sizeBytes = KB) => ({
    path: `tables/clickstream_agg/dt=${dt}/agg/${name}`,
    sizeBytes,
  });

  it("merges its agg units only, in checkpoint id order, never its newest checkpoint's files", () => {
    const files = [
      ...[1, 2, 3].map((seq) => agg(DT, aggFileName(seq))),
      agg(LATER, aggFileName(4)),
      agg(LATER, aggFileName(5)), // the newest checkpoint
      { path: `tables/clickstream_agg/dt=${DT}/r0/part-0-${'0'.repeat(20)}-${'0'.repeat(19)}9.parquet`, sizeBytes: KB },
      {
        path: `tables/clickstream_agg/dt=${DT}/r0/part-0-${'0'.repeat(18)}10-${'0'.repeat(18)}19.parquet`,
        sizeBytes: KB,
      },
      raw(3, 0, 9),
      raw(3, 10, 19),
      raw(3, 20, 29),
    ];
    const merges = planAggMerges(files, 128 * KB * KB, '2026-12-06');
    expect(merges.map((m) => [m.dt, m.unit, m.merged, m.inputs])).toEqual([
      [DT, 'agg', aggMerged(1, 3), [1, 2, 3].map((seq) => aggFileName(seq))],
    ]);
  });

  it('today: leaves out a leading merged file larger than the new ones together, and names the run it keeps', () => {
    const files = [
      agg(DT, aggMerged(1, 40), 100 * KB),
      agg(DT, aggFileName(41)),
      agg(DT, aggFileName(42)),
      agg(DT, aggFileName(43)), // the newest
    ];
    const [merge] = planAggMerges(files, 128 * KB * KB, DT);
    expect(merge!.inputs).toEqual([aggFileName(41), aggFileName(42)]);
    expect(merge!.merged).toBe(aggMerged(41, 42));
    // A day later the same files are merged whole.
    expect(planAggMerges(files, 128 * KB * KB, LATER)[0]!.merged).toBe(aggMerged(1, 42));
  });
});

describe('planOwnerMerges', () => {
  it("merges the owner's raw and _rejected units only, never a file of its newest commit", () => {
    const files = [
      raw(3, 0, 9),
      raw(3, 10, 19),
      raw(3, 20, 29), // the newest roll (its _rejected file too)
      rej('clicks', 3, 0, 9),
      rej('clicks', 3, 10, 19),
      rej('clicks', 3, 20, 29),
      raw(4, 0, 9), // another partition's
      raw(4, 10, 19),
      rej('clicks', 4, 0, 9),
      rej('clicks', 4, 10, 19),
      rej('other', 3, 0, 9), // another topic's partition 3
      rej('other', 3, 10, 19),
      rej('other', 3, 20, 29),
    ];
    const merges = planOwnerMerges(files, 'clicks', 3, 'clickstream', 128 * KB * KB, LATER);
    expect(merges.map((m) => [m.table, m.unit, m.inputs.length, m.merged])).toEqual([
      ['_rejected', 'p3-clicks', 2, rejectedFileName('clicks', 3, 0, 19)],
      ['clickstream', 'p3', 2, rawFileName(3, 0, 19)],
    ]);
  });

  it('merges nothing when only the newest roll and one older file are there', () => {
    expect(planOwnerMerges([raw(1, 0, 9), raw(1, 10, 19)], 'clicks', 1, 'clickstream', 128 * KB * KB, LATER)).toEqual(
      [],
    );
  });
});

describe('planOwnerMerges in the day still being written', () => {
  const sized = (p: number, first: number, last: number, bytes: number) => ({
    ...raw(p, first, last),
    sizeBytes: bytes,
  });

  it('leaves out a leading merged file larger than the new files together, so the day is not rewritten every time', () => {
    const files = [sized(1, 0, 499, 50 * KB * KB), sized(1, 500, 509, KB), sized(1, 510, 519, KB), raw(1, 520, 529)];
    expect(planOwnerMerges(files, 'c', 1, 'clickstream', 128 * KB * KB, LATER).map((m) => m.merged)).toEqual([
      rawFileName(1, 0, 519),
    ]);
    const [today] = planOwnerMerges(files, 'c', 1, 'clickstream', 128 * KB * KB, DT);
    expect(today!.inputs).toEqual([rawFileName(1, 500, 509), rawFileName(1, 510, 519)]);
    expect(today!.merged).toBe(rawFileName(1, 500, 519));
    expect(today!.inputBytes).toBe(2 * KB);
  });

  it('merges a file into the ones after it once they weigh as much, and nothing when one new file is left', () => {
    const grown = [sized(1, 0, 9, 2 * KB), sized(1, 10, 19, KB), sized(1, 20, 29, KB), raw(1, 30, 39)];
    expect(planOwnerMerges(grown, 'c', 1, 'clickstream', 1 << 30, DT).map((m) => m.merged)).toEqual([
      rawFileName(1, 0, 29),
    ]);
    const alone = [sized(1, 0, 9, 4 * KB), sized(1, 10, 19, KB), raw(1, 20, 29)];
    expect(planOwnerMerges(alone, 'c', 1, 'clickstream', 1 << 30, DT)).toEqual([]);
  });
});

const agg1 = (first: number, last: number) => ({
  path: `tables/clickstream_agg/dt=${DT}/r1/${aggTaskFileName(1, first, last)}`,
  sizeBytes: KB,
});

describe('commitMergeOf and replacedByMerge', () => {
  it('names the merged range, and a unit listing gives back exactly the files inside it', () => {
    const files = [raw(1, 0, 9), raw(1, 10, 19), raw(1, 20, 29)];
    const [merge] = planOwnerMerges(files, 'c', 1, 'clickstream', 1 << 30, LATER);
    const named = commitMergeOf(merge!);
    expect(named).toEqual({ table: 'clickstream', dt: DT, first: '0', last: '19' });
    const listing = [rawFileName(1, 20, 29), rawFileName(1, 10, 19), rawFileName(1, 0, 9), rawFileName(1, 30, 39)];
    expect(replacedByMerge(listing, named, merge!.merged)).toEqual([rawFileName(1, 0, 9), rawFileName(1, 10, 19)]);
    // After the exchange the unit lists the merged file: it replaces nothing of itself.
    expect(replacedByMerge([merge!.merged, rawFileName(1, 20, 29)], named, merge!.merged)).toEqual([]);
  });

  it("gives a stage-2 task's merged range too, which commitMergeOf (input partitions only) refuses", () => {
    const files = [agg1(0, 9), agg1(10, 19), agg1(20, 29)];
    const [merge] = planUnitMerges(files, 'clickstream_agg', 'r1', 1 << 30, LATER);
    expect(mergedRangeOf(merge!)).toEqual({ first: '0', last: '19' });
    expect(() => commitMergeOf(merge!)).toThrow(RangeError);
    expect(() => mergedRangeOf({ ...merge!, merged: aggFileName(3) })).toThrow(RangeError);
  });

  it('gives nothing when a file straddles the range (the unit compacted otherwise since): never rows twice', () => {
    const named = { table: 'clickstream' as const, dt: DT, first: '0', last: '19' };
    // `lake compact` merged [10-29] meanwhile: [0-19] would repeat [10-19].
    const listing = [rawFileName(1, 0, 9), rawFileName(1, 10, 29), rawFileName(1, 30, 39)];
    expect(replacedByMerge(listing, named, rawFileName(1, 0, 19))).toBeUndefined();
    // A smaller merge inside the range is fine: its rows are the merged file's too.
    expect(replacedByMerge([rawFileName(1, 0, 9), rawFileName(1, 10, 19)], named, rawFileName(1, 0, 19))).toEqual([
      rawFileName(1, 0, 9),
      rawFileName(1, 10, 19),
    ]);
  });
});

describe('exchangeDecision', () => {
  const built = ['a.parquet', 'b.parquet', 'c.parquet'];
  it('exchanges only when the unit still lists what the version was built from', () => {
    expect(exchangeDecision(built, ['c.parquet', 'a.parquet', 'b.parquet'], 'm.parquet')).toBe('exchange');
  });
  it('refuses when another owner exchanged it already, or added or removed a file since', () => {
    expect(exchangeDecision(built, ['m.parquet', 'c.parquet'], 'm.parquet')).toBe('already-merged');
    expect(exchangeDecision(built, [...built, 'd.parquet'], 'm.parquet')).toBe('unit-changed');
    expect(exchangeDecision(built, ['a.parquet', 'b.parquet'], 'm.parquet')).toBe('unit-changed');
    expect(exchangeDecision(built, ['a.parquet', 'b.parquet', 'd.parquet'], 'm.parquet')).toBe('unit-changed');
  });
});

describe('planUnitMerges: stage-2 task r (etl.windows: members), unit r<r>', () => {
  const agg = (r: number, first: number, last: number, bytes = KB, unit = `r${r}`) => ({
    path: `tables/clickstream_agg/dt=${DT}/${unit}/${aggTaskFileName(r, first, last)}`,
    sizeBytes: bytes,
  });

  it("merges the task's own unit only, never a file of its newest commit", () => {
    const files = [
      agg(1, 0, 9),
      agg(1, 10, 19),
      agg(1, 20, 29), // the newest commit
      agg(2, 0, 9), // another task's
      agg(2, 10, 19),
      agg(2, 20, 29),
      raw(1, 0, 9), // partition 1's raw files: the input partition's owner's
      raw(1, 10, 19),
      raw(1, 20, 29),
    ];
    expect(planTaskMerges(files, 1, 1 << 30, LATER).map((m) => [m.table, m.unit, m.inputs, m.merged])).toEqual([
      ['clickstream_agg', 'r1', [aggTaskFileName(1, 0, 9), aggTaskFileName(1, 10, 19)], aggTaskFileName(1, 0, 19)],
    ]);
    expect(planTaskMerges([agg(1, 0, 9), agg(1, 10, 19)], 1, 1 << 30, LATER)).toEqual([]);
  });

  it('leaves a large leading input out in the day still being written', () => {
    const files = [agg(1, 0, 499, 50 * KB), agg(1, 500, 509), agg(1, 510, 519), agg(1, 520, 529)];
    expect(planTaskMerges(files, 1, 1 << 30, LATER).map((m) => m.merged)).toEqual([aggTaskFileName(1, 0, 519)]);
    expect(planTaskMerges(files, 1, 1 << 30, DT).map((m) => m.merged)).toEqual([aggTaskFileName(1, 500, 519)]);
  });
});
