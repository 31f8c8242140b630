import { describe, expect, it } from 'vitest';
import { ColumnBuffer } from '../../../src/lake/columnBuffer.js';
import { TABLES } from '../../../src/lake/tables.js';

describe('ColumnBuffer', () => {
  it('stores rows column-wise in schema order', () => {
    const buffer = new ColumnBuffer('clickstream');
    buffer.append({ event_id: 'e1', user_id: 'u1', url: '/a', referrer: null, ua: 'UA', ts: 1000 });
    buffer.append({ event_id: 'e2', user_id: 'u2', url: '/b', referrer: 'https://x', ua: 'UA2', ts: 2000 });
    expect(buffer.rowCount).toBe(2);
    const batch = buffer.drain();
    expect(batch.rowCount).toBe(2);
    expect(Object.keys(batch.columns)).toEqual(TABLES.clickstream.map((c) => c.name));
    expect(batch.columns).toEqual({
      event_id: ['e1', 'e2'],
      user_id: ['u1', 'u2'],
      url: ['/a', '/b'],
      referrer: [null, 'https://x'],
      ua: ['UA', 'UA2'],
      ts: [1000, 2000],
    });
  });

  it('estimates bytes: string lengths plus 8 per number or null', () => {
    const buffer = new ColumnBuffer('clickstream_agg');
    expect(buffer.approxBytes).toBe(0);
    buffer.append({ minute_start: 0, minute_end: 60_000, url: '/abc', pv: 3 });
    expect(buffer.approxBytes).toBe(8 + 8 + 4 + 8);
    const clicks = new ColumnBuffer('clickstream');
    clicks.append({ event_id: 'ab', user_id: 'c', url: '', referrer: null, ua: 'dddd', ts: 1 });
    expect(clicks.approxBytes).toBe(2 + 1 + 0 + 8 + 4 + 8);
  });

  it('drain hands the arrays over and starts empty', () => {
    const buffer = new ColumnBuffer('clickstream_agg');
    buffer.append({ minute_start: 0, minute_end: 60_000, url: '/a', pv: 1 });
    const first = buffer.drain();
    buffer.append({ minute_start: 60_000, minute_end: 120_000, url: '/b', pv: 2 });
    expect(first.columns.url).toEqual(['/a']);
    expect(buffer.rowCount).toBe(1);
    expect(buffer.approxBytes).toBe(8 + 8 + 2 + 8);
    const second = buffer.drain();
    expect(second.columns.url).toEqual(['/b']);
    expect(buffer.drain()).toEqual({ rowCount: 0, columns: { minute_start: [], minute_end: [], url: [], pv: [] } });
  });

  it('stores a missing optional value as null', () => {
    const buffer = new ColumnBuffer('_rejected');
    const row = {
      topic: 't',
      partition: 0,
      offset: 5,
      reason: 'invalid_json',
      detail: 'x',
      payload: '{',
      payload_encoding: 'utf8',
    } as unknown as Parameters<typeof buffer.append>[0];
    buffer.append(row);
    expect(buffer.drain().columns.kafka_ts).toEqual([null]);
  });
});
