import { describe, expect, it } from 'vitest';
import { rawFileName, rejectedFileName, tmpPathFor } from '../../../src/lake/layout.js';
import { parsePartitionFileName } from '../../../src/lake/partitionFileName.js';
import type { TableName } from '../../../src/lake/tables.js';

const CLICKS: readonly TableName[] = ['clickstream', '_rejected'];
// Final files in their unit (lake/layout.ts); tmp files and a lake from before units in the dt directory.
const raw = (p: number, first: number, last: number) =>
  `tables/clickstream/dt=2026-12-01/p${p}/${rawFileName(p, first, last)}`;
const rej = (topic: string, p: number, first: number, last: number) =>
  `tables/_rejected/dt=2026-12-01/p${p}-${topic}/${rejectedFileName(topic, p, first, last)}`;
const inDt = (final: string) => final.replace(/\/[^/]+\/(part-[^/]+)$/, '/$1');

describe('parsePartitionFileName', () => {
  it('reads a final file, a tmp file with a writer id and a legacy tmp file', () => {
    expect(parsePartitionFileName(raw(1, 100, 199), 'clicks', 1, CLICKS)).toEqual({
      path: raw(1, 100, 199),
      table: 'clickstream',
      dt: '2026-12-01',
      first: '100',
      last: '199',
      tmp: false,
      writer: null,
      final: raw(1, 100, 199),
    });
    expect(parsePartitionFileName(`${inDt(rej('clicks', 1, 0, 9))}.0a1b.tmp`, 'clicks', 1, CLICKS)).toMatchObject({
      table: '_rejected',
      tmp: true,
      writer: '0a1b',
      final: rej('clicks', 1, 0, 9),
    });
    expect(parsePartitionFileName(`${inDt(raw(1, 0, 9))}.tmp`, 'clicks', 1, CLICKS)).toMatchObject({
      tmp: true,
      writer: null,
      final: raw(1, 0, 9),
    });
  });

  it("reads a final file of a lake from before units as it is, and no file in another owner's unit", () => {
    expect(parsePartitionFileName(inDt(raw(1, 0, 9)), 'clicks', 1, CLICKS)).toMatchObject({
      tmp: false,
      final: inDt(raw(1, 0, 9)),
    });
    expect(parsePartitionFileName(raw(1, 0, 9).replace('/p1/', '/p2/'), 'clicks', 1, CLICKS)).toBeUndefined();
    expect(parsePartitionFileName(rej('clicks', 1, 0, 9).replace('/p1-clicks/', '/p1/'), 'clicks', 1, CLICKS)).toBe(
      undefined,
    );
    // A tmp file is never written into a unit: an exchange of the unit would carry it away.
    expect(parsePartitionFileName(`${raw(1, 0, 9)}.0a1b.tmp`, 'clicks', 1, CLICKS)).toBeUndefined();
  });

  it('reads a hidden tmp file (written since tmp files start with a dot) with its final and writer', () => {
    const hidden = tmpPathFor(rej('clicks', 1, 0, 9), '0a1b');
    expect(hidden).toBe(`tables/_rejected/dt=2026-12-01/.${rejectedFileName('clicks', 1, 0, 9)}.0a1b.tmp`);
    // The final is in the unit, the tmp file beside it in the dt directory.
    expect(parsePartitionFileName(hidden, 'clicks', 1, CLICKS)).toEqual({
      path: hidden,
      table: '_rejected',
      dt: '2026-12-01',
      first: '0',
      last: '9',
      tmp: true,
      writer: '0a1b',
      final: rej('clicks', 1, 0, 9),
    });
    // A dot on a final name is no name a writer gives.
    expect(
      parsePartitionFileName(`tables/clickstream/dt=2026-12-01/.${rawFileName(1, 0, 9)}`, 'clicks', 1, CLICKS),
    ).toBeUndefined();
  });

  it('is exact on partition and topic', () => {
    expect(parsePartitionFileName(raw(10, 0, 9), 'clicks', 1, CLICKS)).toBeUndefined();
    expect(parsePartitionFileName(raw(1, 0, 9), 'clicks', 10, CLICKS)).toBeUndefined();
    // partition 0 of topic clicks-1 is not partition 1 of clicks, nor the other way round
    expect(parsePartitionFileName(rej('clicks-1', 0, 0, 9), 'clicks', 1, CLICKS)).toBeUndefined();
    expect(parsePartitionFileName(rej('clicks', 1, 0, 9), 'clicks-1', 0, CLICKS)).toBeUndefined();
    expect(parsePartitionFileName(rej('clicks-1', 0, 0, 9), 'clicks-1', 0, CLICKS)).toMatchObject({ first: '0' });
    // a dot in a topic is a dot
    expect(parsePartitionFileName(rej('aXb', 1, 0, 9), 'a.b', 1, CLICKS)).toBeUndefined();
    expect(parsePartitionFileName(rej('a.b', 1, 0, 9), 'a.b', 1, CLICKS)).toMatchObject({ table: '_rejected' });
  });

  it('ignores other tables and names no writer gives', () => {
    const iot = `tables/iot/dt=2026-12-01/${rawFileName(1, 0, 9)}`;
    expect(parsePartitionFileName(iot, 'clicks', 1, CLICKS)).toBeUndefined();
    expect(parsePartitionFileName(iot, 'sensors', 1, ['iot'])).toMatchObject({ table: 'iot' });
    for (const name of [
      `${raw(1, 0, 9)}.ABC.tmp`, // writer ids are lowercase hex
      `${raw(1, 0, 9)}.abc`,
      `${raw(1, 0, 9)}x`,
      'tables/clickstream/dt=2026-12-01/part-1-00000000000000000009-00000000000000000000.parquet', // first > last
      'tables/clickstream/dt=2026-12-01/part-1-9-10.parquet', // offsets not padded
      'tables/clickstream/dt=latest/part-1-00000000000000000000-00000000000000000009.parquet',
      'tables/clickstream_agg/dt=2026-12-01/part-00000000000000000001.parquet',
      `x/${raw(1, 0, 9)}`,
    ]) {
      expect(parsePartitionFileName(name, 'clicks', 1, [...CLICKS, 'clickstream_agg']), name).toBeUndefined();
    }
  });
});
