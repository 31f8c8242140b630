import { describe, expect, it } from 'vitest';
import { PackedColumnBuffer, isPackedBatch, unpackColumns, type PackedBatch } from '../../../src/lake/packedColumns.js';
import { TABLES, type RowOf, type TableName } from '../../../src/lake/tables.js';
import { DAY1, aggRows, batchOf, clickstreamRows, iotRows, manyClickstreamRows, rejectedRows } from './fixtures.js';

function packed<T extends TableName>(table: T, rows: RowOf<T>[]): PackedBatch {
  const buffer = new PackedColumnBuffer(table);
  for (const row of rows) buffer.appendRow(row);
  return buffer.drain();
}

describe('PackedColumnBuffer', () => {
  it('round-trips every table to the same ColumnBatch as the JS-array buffer: non-ASCII, empty strings, nulls, extreme numbers', () => {
    for (const [table, rows] of [
      ['clickstream', clickstreamRows],
      ['iot', iotRows],
      ['clickstream_agg', aggRows],
      ['_rejected', rejectedRows],
    ] as const) {
      const batch = packed(table, rows as RowOf<typeof table>[]);
      expect(isPackedBatch(batch)).toBe(true);
      expect(batch.rowCount).toBe(rows.length);
      expect(unpackColumns(table, batch)).toEqual(batchOf(table, rows as RowOf<typeof table>[]));
    }
  });

  it('keeps -0, lone surrogates as UTF-8 would write them, and strings longer than the initial buffers', () => {
    const buffer = new PackedColumnBuffer('iot');
    buffer.appendRow({
      device_id: 'd\ud800x',
      site: 'é'.repeat(10_000),
      temp_c: -0,
      humidity: 0,
      battery: 1,
      signal_strength: -1,
      ts: 5,
    });
    const { columns } = unpackColumns('iot', buffer.drain());
    expect(Object.is(columns.temp_c![0], -0)).toBe(true);
    // A lone surrogate has no UTF-8 form: U+FFFD, as the Parquet encoder's own UTF-8 encoding writes it.
    expect(columns.device_id).toEqual(['d\ufffdx']);
    expect(columns.site).toEqual(['é'.repeat(10_000)]);
  });

  it('marks a column ASCII until a non-ASCII value arrives', () => {
    const buffer = new PackedColumnBuffer('clickstream_agg');
    buffer.appendRow({ minute_start: 0, minute_end: 1, url: '/a', pv: 1 });
    const ascii = buffer.drain();
    expect(ascii.columns[2]).toMatchObject({ kind: 'utf8', ascii: true });
    buffer.appendRow({ minute_start: 0, minute_end: 1, url: '/a', pv: 1 });
    buffer.appendRow({ minute_start: 0, minute_end: 1, url: '/ü', pv: 1 });
    const mixed = buffer.drain();
    expect(mixed.columns[2]).toMatchObject({ kind: 'utf8', ascii: false });
    expect(unpackColumns('clickstream_agg', mixed).columns.url).toEqual(['/a', '/ü']);
  });

  it('takes fields pushed one by one, bytes straight from a source buffer', () => {
    const src = Buffer.from('xxe-1yyu-9zz/home');
    const buffer = new PackedColumnBuffer('clickstream');
    buffer.pushBytes(0, src, 2, 5, true);
    buffer.pushBytes(1, src, 7, 10, true);
    buffer.pushBytes(2, src, 12, 17, true);
    buffer.pushNull(3);
    buffer.pushString(4, 'Mozilla/5.0 ü');
    buffer.pushNumber(5, DAY1);
    buffer.endRow();
    expect(buffer.rowCount).toBe(1);
    // UTF-8 bytes of the text plus 8 per number or null.
    expect(buffer.approxBytes).toBe(3 + 3 + 5 + 8 + Buffer.byteLength('Mozilla/5.0 ü') + 8);
    expect(unpackColumns('clickstream', buffer.drain()).columns).toEqual({
      event_id: ['e-1'],
      user_id: ['u-9'],
      url: ['/home'],
      referrer: [null],
      ua: ['Mozilla/5.0 ü'],
      ts: [DAY1],
    });
  });

  it('appends whole batches (views or copies) after its own rows, nulls and offsets shifted', () => {
    const rows = manyClickstreamRows(1_000, DAY1);
    rows[999] = { ...rows[999]!, ua: 'Ünïcode' };
    const first = new PackedColumnBuffer('clickstream');
    for (const row of rows.slice(0, 600)) first.appendRow(row);
    const view = first.drain(false);
    const second = new PackedColumnBuffer('clickstream');
    for (const row of rows.slice(600)) second.appendRow(row);
    const copy = second.drain();

    const target = new PackedColumnBuffer('clickstream');
    target.appendRow(clickstreamRows[1]!);
    target.appendBatch(view);
    target.appendBatch(copy);
    target.appendBatch(new PackedColumnBuffer('clickstream').drain());
    expect(target.rowCount).toBe(1_001);
    expect(target.approxBytes).toBe(packed('clickstream', [clickstreamRows[1]!, ...rows]).approxBytes);
    const all = target.drain();
    expect(unpackColumns('clickstream', all)).toEqual(batchOf('clickstream', [clickstreamRows[1]!, ...rows]));
    expect(target.rowCount).toBe(0);
    expect(target.approxBytes).toBe(0);
  });

  it('reuses its arrays after a view drain: the next rows write over them, null flags start clean', () => {
    const rows = manyClickstreamRows(300, DAY1);
    const chunk = new PackedColumnBuffer('clickstream');
    const target = new PackedColumnBuffer('clickstream', { dictionary: true });
    for (const part of [rows.slice(0, 150), rows.slice(150)]) {
      for (const row of part) chunk.appendRow(row);
      target.appendBatch(chunk.drain(false));
    }
    chunk.appendRow({ ...rows[1]!, referrer: 'not null' });
    const reused = chunk.drain(false);
    expect(unpackColumns('clickstream', reused).columns.referrer).toEqual(['not null']);
    expect(unpackColumns('clickstream', target.drain())).toEqual(batchOf('clickstream', rows));
  });

  it('drains exactly-sized arrays of their own, and starts empty', () => {
    const buffer = new PackedColumnBuffer('iot');
    for (const row of iotRows) buffer.appendRow(row);
    const batch = buffer.drain();
    for (const column of batch.columns) {
      const arrays = column.kind === 'utf8' ? [column.bytes, column.ends] : [column.values];
      for (const a of arrays) expect(a.byteLength).toBe(a.buffer.byteLength);
    }
    expect(buffer.drain()).toMatchObject({ rowCount: 0, approxBytes: 0 });
    // A structured clone (what crosses to an encoder thread) reads back the same.
    expect(unpackColumns('iot', structuredClone(batch))).toEqual(batchOf('iot', iotRows));
  });

  it('reads row objects through sourceFields, and refuses a value of the wrong type', () => {
    const buffer = new PackedColumnBuffer('clickstream', { sourceFields: { ts: 'tsMs' } });
    buffer.appendRow({ event_id: 'e', user_id: 'u', url: '/', referrer: null, ua: 'x', tsMs: 7 });
    expect(unpackColumns('clickstream', buffer.drain()).columns.ts).toEqual([7]);
    expect(() => buffer.appendRow({ event_id: 1, user_id: 'u', url: '/', ua: 'x', tsMs: 7 })).toThrow(
      /clickstream.event_id: expected a string/,
    );
    expect(() => new PackedColumnBuffer('iot').appendRow({ device_id: 'd', site: 's', temp_c: '1' })).toThrow(
      /iot.temp_c: expected a number/,
    );
  });

  it('keeps the low-cardinality columns as dictionary ids: each distinct value stored once, rows read back the same', () => {
    const rows = manyClickstreamRows(5_000, DAY1);
    rows[10] = { ...rows[10]!, url: '/ü', referrer: null, ua: '👍🏽' };
    const chunk = new PackedColumnBuffer('clickstream');
    for (const row of rows.slice(0, 2_000)) chunk.appendRow(row);
    const dictBuffer = new PackedColumnBuffer('clickstream', { dictionary: true });
    dictBuffer.appendBatch(chunk.drain(false));
    for (const row of rows.slice(2_000)) dictBuffer.appendRow(row);
    const batch = dictBuffer.drain();
    const byName = Object.fromEntries(TABLES.clickstream.map((spec, i) => [spec.name, batch.columns[i]!]));
    for (const name of ['url', 'referrer', 'ua']) {
      const col = byName[name]!;
      if (col.kind !== 'utf8') throw new Error('text column expected');
      expect(col.ids).toHaveLength(5_000);
      const distinct = new Set(rows.map((r) => r[name as 'url'])).size;
      expect(col.dict!.ends.length).toBeLessThanOrEqual(distinct);
      // Only nulls are inline (as zero bytes): every value is an id.
      expect(col.bytes.length).toBe(0);
    }
    const eventIds = byName.event_id!;
    expect(eventIds.kind === 'utf8' && eventIds.ids === undefined).toBe(true);
    expect(unpackColumns('clickstream', batch)).toEqual(batchOf('clickstream', rows));
    // Through a clone and into another dictionary buffer (ids re-looked up there) and a plain one.
    for (const target of [
      new PackedColumnBuffer('clickstream', { dictionary: true }),
      new PackedColumnBuffer('clickstream'),
    ]) {
      target.appendRow(rows[0]!);
      target.appendBatch(structuredClone(batch));
      expect(unpackColumns('clickstream', target.drain())).toEqual(batchOf('clickstream', [rows[0]!, ...rows]));
    }
  });

  it('gives up a dictionary on a nearly unique column, keeping the ids it gave', () => {
    const rows = manyClickstreamRows(6_000, DAY1).map((r, i) => ({ ...r, url: `/unique/${i}` }));
    const buffer = new PackedColumnBuffer('clickstream', { dictionary: true });
    for (const row of rows) buffer.appendRow(row);
    const batch = buffer.drain();
    const url = batch.columns[2]!;
    if (url.kind !== 'utf8') throw new Error('text column expected');
    expect(url.dict!.ends.length).toBeLessThan(2_000);
    expect(url.bytes.length).toBeGreaterThan(0);
    expect(unpackColumns('clickstream', batch)).toEqual(batchOf('clickstream', rows));
  });

  it('refuses a batch of another shape', () => {
    expect(() => new PackedColumnBuffer('iot').appendBatch(packed('clickstream', clickstreamRows))).toThrow(/columns/);
    expect(() => unpackColumns('iot', packed('clickstream', clickstreamRows))).toThrow(/columns/);
    expect(TABLES.iot.length).toBe(7);
  });
});
