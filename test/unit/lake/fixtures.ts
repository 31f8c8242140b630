import { ColumnBuffer } from '../../../src/lake/columnBuffer.js';
import type { ColumnBatch, RowOf, TableName } from '../../../src/lake/tables.js';

/** Rows with the edge cases each table must survive (test helper, not a test file). */

export const DAY1 = Date.UTC(2024, 2, 1, 10, 30, 15, 123);
const DAY_MS = 86_400_000;

export const clickstreamRows: RowOf<'clickstream'>[] = [
  { event_id: 'e-1', user_id: 'u-1', url: '/home', referrer: null, ua: 'Mozilla/5.0', ts: DAY1 },
  {
    event_id: 'e-2',
    user_id: 'ユーザー',
    url: '/produits/café?q=日本語',
    referrer: 'https://例え.jp/ü',
    ua: 'Bot 👍🏽 \u00e9\u0301',
    ts: DAY1 + 1,
  },
  { event_id: 'e-3', user_id: 'u-3', url: '/', referrer: '', ua: '', ts: 0 },
  { event_id: 'e-4', user_id: 'u-4', url: '/old', referrer: null, ua: 'x', ts: -1 },
  { event_id: 'e-5', user_id: 'u-5', url: '/far', referrer: 'r', ua: 'y', ts: 253_402_300_799_999 },
  {
    event_id: 'e-6',
    user_id: 'u-6',
    url: '/long/' + 'ab'.repeat(5000),
    referrer: 'q"uo\'te\\',
    ua: 'tab\tnew\nline',
    ts: DAY1 + DAY_MS,
  },
];

export const iotRows: RowOf<'iot'>[] = [
  { device_id: 'd-1', site: 'plant-a', temp_c: 21.5, humidity: 40.25, battery: 0.97, signal_strength: -67, ts: DAY1 },
  {
    device_id: 'd-2',
    site: 'sïte-β',
    temp_c: -273.15,
    humidity: 0,
    battery: 0,
    signal_strength: -2_147_483_648,
    ts: DAY1 + 1,
  },
  {
    device_id: 'd-3',
    site: 'plant-a',
    temp_c: Number.MAX_VALUE,
    humidity: 100,
    battery: 1,
    signal_strength: 2_147_483_647,
    ts: -86_400_000,
  },
  {
    device_id: 'd-4',
    site: 'plant-b',
    temp_c: -Number.MAX_VALUE,
    humidity: 5e-324,
    battery: 0.1 + 0.2,
    signal_strength: 0,
    ts: 0,
  },
];

export const aggRows: RowOf<'clickstream_agg'>[] = [
  { minute_start: DAY1 - (DAY1 % 60_000), minute_end: DAY1 - (DAY1 % 60_000) + 60_000, url: '/home', pv: 1 },
  { minute_start: DAY1 - (DAY1 % 60_000), minute_end: DAY1 - (DAY1 % 60_000) + 60_000, url: '/café', pv: 0 },
  { minute_start: 0, minute_end: 60_000, url: '/big', pv: Number.MAX_SAFE_INTEGER },
];

export const rejectedRows: RowOf<'_rejected'>[] = [
  {
    topic: 'clickstream',
    partition: 0,
    offset: 0,
    reason: 'invalid_json',
    detail: 'Unexpected token } in JSON',
    payload: '{"a":}',
    payload_encoding: 'utf8',
    kafka_ts: DAY1,
  },
  {
    topic: 'iot',
    partition: 2_147_483_647,
    offset: Number.MAX_SAFE_INTEGER,
    reason: 'not_utf8',
    detail: 'bytes are not UTF-8: ü',
    payload: Buffer.from([0xff, 0xfe, 0x00]).toString('base64'),
    payload_encoding: 'base64',
    kafka_ts: null,
  },
  {
    topic: 'iot',
    partition: 1,
    offset: 12345,
    reason: 'missing_field',
    detail: 'site',
    payload: '',
    payload_encoding: 'utf8',
    kafka_ts: -5,
  },
];

export function batchOf<T extends TableName>(table: T, rows: RowOf<T>[]): ColumnBatch {
  const buffer = new ColumnBuffer(table);
  for (const row of rows) buffer.append(row);
  return buffer.drain();
}

/** Deterministic clickstream rows: ~300 urls, a third without referrer, one per second from `startMs`. */
export function manyClickstreamRows(count: number, startMs: number): RowOf<'clickstream'>[] {
  const uas = [
    'Mozilla/5.0 (X11; Linux x86_64)',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)',
    'curl/8.5.0',
    'Googlebot/2.1',
    'Édge/120',
  ];
  const rows: RowOf<'clickstream'>[] = [];
  for (let i = 0; i < count; i++) {
    rows.push({
      event_id: `evt-${i.toString(16).padStart(8, '0')}`,
      user_id: `user-${i % 1000}`,
      url: `/p/${i % 300}`,
      referrer: i % 3 === 0 ? null : `https://ref${i % 7}.example`,
      ua: uas[i % uas.length]!,
      ts: startMs + i * 1000,
    });
  }
  return rows;
}
