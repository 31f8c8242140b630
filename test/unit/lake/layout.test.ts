import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AGG_UNIT,
  aggFileName,
  aggTaskFilePath,
  aggTaskUnit,
  aggFilePath,
  dtOfMs,
  formatOffset,
  isTmpPath,
  partitionDir,
  rawFileName,
  rawFilePath,
  rawUnit,
  rejectedFileName,
  rejectedFilePath,
  rejectedUnit,
  tableDir,
  tmpPathFor,
  tmpStoreId,
  unhiddenTmpPath,
} from '../../../src/lake/layout.js';

const root = '/lake';

describe('directories', () => {
  it('puts every table under <root>/tables', () => {
    expect(tableDir(root, 'clickstream')).toBe('/lake/tables/clickstream');
    expect(tableDir(root, '_rejected')).toBe('/lake/tables/_rejected');
    expect(partitionDir(root, 'iot', '2024-03-01')).toBe('/lake/tables/iot/dt=2024-03-01');
  });

  it('refuses a dt that is not YYYY-MM-DD', () => {
    expect(() => partitionDir(root, 'iot', '2024-3-1')).toThrow(RangeError);
    expect(() => partitionDir(root, 'iot', '../x')).toThrow(RangeError);
  });
});

describe('dtOfMs', () => {
  it('is the UTC date, with day boundaries at UTC midnight', () => {
    expect(dtOfMs(Date.UTC(2024, 1, 29, 23, 59, 59, 999))).toBe('2024-02-29');
    expect(dtOfMs(Date.UTC(2024, 2, 1))).toBe('2024-03-01');
    expect(dtOfMs(0)).toBe('1970-01-01');
    expect(dtOfMs(-1)).toBe('1969-12-31');
    expect(dtOfMs(253_402_300_799_999)).toBe('9999-12-31');
  });

  it('answers correctly when alternating between days (memo)', () => {
    const a = Date.UTC(2024, 0, 1, 12);
    const b = Date.UTC(2024, 0, 2, 0, 0, 0, 1);
    expect([dtOfMs(a), dtOfMs(b), dtOfMs(a), dtOfMs(a + 1), dtOfMs(b)]).toEqual([
      '2024-01-01',
      '2024-01-02',
      '2024-01-01',
      '2024-01-01',
      '2024-01-02',
    ]);
  });

  it('throws outside years 0000..9999 and on non-finite input', () => {
    expect(() => dtOfMs(253_402_300_800_000)).toThrow(RangeError);
    expect(() => dtOfMs(Number.NaN)).toThrow(RangeError);
    expect(() => dtOfMs(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('offsets', () => {
  it('formats int64 offsets as 20 digits from strings, bigints and numbers', () => {
    expect(formatOffset('0')).toBe('00000000000000000000');
    expect(formatOffset('42')).toBe('00000000000000000042');
    expect(formatOffset('0042')).toBe('00000000000000000042');
    expect(formatOffset(42n)).toBe('00000000000000000042');
    expect(formatOffset(42)).toBe('00000000000000000042');
    expect(formatOffset('9223372036854775807')).toBe('09223372036854775807');
  });

  it('keeps digits beyond 2^53 exact', () => {
    expect(formatOffset('9007199254740993')).toBe('00009007199254740993');
  });

  it('refuses negative, fractional, oversized or non-decimal offsets', () => {
    for (const bad of ['-1', '1.5', '', '9223372036854775808', '0x10', ' 1', '1e3']) {
      expect(() => formatOffset(bad), bad).toThrow(RangeError);
    }
    expect(() => formatOffset(-1n)).toThrow(RangeError);
    expect(() => formatOffset(1.5)).toThrow(RangeError);
    expect(() => formatOffset(2 ** 53)).toThrow(RangeError);
  });

  it('makes lexical order of file names equal offset order within a partition', () => {
    const names = [
      ['9', '99'],
      ['100', '199'],
      ['1000', '1099'],
      ['10', '10'],
    ].map(([a, b]) => rawFileName(3, a!, b!));
    const byOffset = [...names].sort((x, y) => Number(x.split('-')[2]) - Number(y.split('-')[2]));
    expect([...names].sort()).toEqual(byOffset);
  });
});

describe('file names', () => {
  it('names raw files part-<partition>-<first>-<last>.parquet', () => {
    expect(rawFileName(0, '100', '199')).toBe('part-0-00000000000000000100-00000000000000000199.parquet');
    expect(rawFileName(12, '5', '5')).toBe('part-12-00000000000000000005-00000000000000000005.parquet');
  });

  it('refuses a range whose first offset is after the last, and bad partitions', () => {
    expect(() => rawFileName(0, '200', '199')).toThrow(RangeError);
    expect(() => rawFileName(-1, '1', '2')).toThrow(RangeError);
    expect(() => rawFileName(1.5, '1', '2')).toThrow(RangeError);
  });

  it('names aggregate files part-<checkpointId>.parquet', () => {
    expect(aggFileName(7)).toBe('part-00000000000000000007.parquet');
    expect(aggFileName('123')).toBe('part-00000000000000000123.parquet');
  });

  it('names rejected files part-<topic>-<partition>-<first>-<last>.parquet', () => {
    expect(rejectedFileName('clickstream', 2, '10', '20')).toBe(
      'part-clickstream-2-00000000000000000010-00000000000000000020.parquet',
    );
    expect(rejectedFileName('my.topic_v-2', 0, '1', '1')).toBe(
      'part-my.topic_v-2-0-00000000000000000001-00000000000000000001.parquet',
    );
  });

  it('refuses topic names that are not legal Kafka topics (no path escapes)', () => {
    for (const bad of ['', '.', '..', 'a/b', 'a b', '../etc', 'x'.repeat(250)]) {
      expect(() => rejectedFileName(bad, 0, '1', '2'), bad).toThrow(RangeError);
    }
  });

  it("builds full paths in the writer's unit of the dt directory", () => {
    expect(rawFilePath(root, 'clickstream', '2024-03-01', 1, '0', '9')).toBe(
      path.join(
        '/lake/tables/clickstream/dt=2024-03-01/p1',
        'part-1-00000000000000000000-00000000000000000009.parquet',
      ),
    );
    expect(aggFilePath(root, '2024-03-01', 4)).toBe(
      '/lake/tables/clickstream_agg/dt=2024-03-01/agg/part-00000000000000000004.parquet',
    );
    expect(aggTaskFilePath(root, '2024-03-01', 2, 5, 9)).toBe(
      '/lake/tables/clickstream_agg/dt=2024-03-01/r2/part-2-00000000000000000005-00000000000000000009.parquet',
    );
    expect(rejectedFilePath(root, dtOfMs(Date.UTC(2024, 2, 1, 5)), 'iot', 0, '3', '8')).toBe(
      '/lake/tables/_rejected/dt=2024-03-01/p0-iot/part-iot-0-00000000000000000003-00000000000000000008.parquet',
    );
  });

  it('names units so that no Hive reader adds a column and none skips them', () => {
    expect([rawUnit(3), rejectedUnit('my.topic_v', 2), aggTaskUnit(1), AGG_UNIT]).toEqual([
      'p3',
      'p2-my.topic_v',
      'r1',
      'agg',
    ]);
    expect(() => rejectedUnit('../x', 0)).toThrow(RangeError);
  });

  it('derives the tmp path: hidden (a leading dot) in the dt directory beside the unit, with the store id', () => {
    // Spark, pyarrow and pandas read every file not starting with '.' or '_', whatever its extension: a visible tmp
    // file would give them rows not committed yet.
    const final = rawFilePath(root, 'iot', '2024-03-01', 0, '1', '2');
    const dir = '/lake/tables/iot/dt=2024-03-01';
    const name = 'part-0-00000000000000000001-00000000000000000002.parquet';
    expect(tmpPathFor(final)).toBe(`${dir}/.${name}.tmp`);
    expect(tmpPathFor(final, 'a1b2')).toBe(`${dir}/.${name}.a1b2.tmp`);
    expect(tmpPathFor(`tables/iot/dt=2024-03-01/p0/${name}`, 'a1b2')).toBe(
      `tables/iot/dt=2024-03-01/.${name}.a1b2.tmp`,
    );
    // A final path from before units: the same tmp path.
    expect(tmpPathFor(`tables/iot/dt=2024-03-01/${name}`, 'a1b2')).toBe(`tables/iot/dt=2024-03-01/.${name}.a1b2.tmp`);
    expect(isTmpPath(tmpPathFor(final))).toBe(true);
    expect(isTmpPath(final)).toBe(false);
    expect(tmpStoreId(tmpPathFor(final, 'a1b2'))).toBe('a1b2');
    expect(() => tmpPathFor(final, 'not hex')).toThrow(RangeError);
  });

  it('gives the name a tmp file had before tmp files were hidden, and any other path as it is', () => {
    const name = 'part-0-00000000000000000001-00000000000000000002.parquet';
    expect(unhiddenTmpPath(`tables/iot/dt=2024-03-01/.${name}.a1b2.tmp`)).toBe(
      `tables/iot/dt=2024-03-01/${name}.a1b2.tmp`,
    );
    expect(unhiddenTmpPath(`tables/iot/dt=2024-03-01/${name}.a1b2.tmp`)).toBe(
      `tables/iot/dt=2024-03-01/${name}.a1b2.tmp`,
    );
    expect(unhiddenTmpPath(`tables/iot/dt=2024-03-01/${name}`)).toBe(`tables/iot/dt=2024-03-01/${name}`);
    expect(unhiddenTmpPath(`.${name}.tmp`)).toBe(`${name}.tmp`);
  });
});
