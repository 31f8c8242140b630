import { writeFileSync } from 'node:fs';
import type { RejectReason } from '../../../src/events/validate.js';
import type { Placed, TestRecord } from './kafkaTestData.js';

/**
 * Events the ETL tests write to Kafka, with everything the lake must then hold about them, so
 * that DuckDB can compare the lake with the truth row for row.
 */

export const TEST_URLS = [
  'https://shop.example.com/',
  'https://shop.example.com/cart',
  'https://shop.example.com/checkout',
  'https://shop.example.com/search?q=shoes',
  'https://shop.example.com/p/1001',
  'https://shop.example.com/p/1002',
  'https://shop.example.com/p/1003',
  'https://shop.example.com/c/women',
  'https://shop.example.com/c/men',
  "https://shop.example.com/p/it's-quoted",
  'https://shop.example.com/p/ünïcødé',
  'https://shop.example.com/help',
];

const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
];

export interface ExpectedClick {
  event_id: string;
  user_id: string;
  url: string;
  referrer: string | null;
  ua: string;
  ts_ms: number;
  partition: number;
  offset: string;
}

export interface ExpectedIot {
  device_id: string;
  site: string;
  temp_c: number;
  humidity: number;
  battery: number;
  signal_strength: number;
  ts_ms: number;
  partition: number;
  offset: string;
}

export interface PlannedRecord<E> {
  record: TestRecord;
  /** The row the lake must hold for it (offset filled in once produced). */
  expected: E;
}

export interface ClickOptions {
  runId: string;
  index: number;
  userCount: number;
  partitions: number;
  tsMs: number;
  random: () => number;
  /** Epoch millis on the wire instead of ISO text (both are legal). */
  epochMillis?: boolean;
  url?: string;
}

/** A valid clickstream event keyed by user_id; the user decides the partition (every partition gets data). */
export function clickEvent(o: ClickOptions): PlannedRecord<ExpectedClick> {
  const userIndex = Math.floor(o.random() * o.userCount);
  const userId = `u-${String(userIndex).padStart(5, '0')}`;
  const url = o.url ?? TEST_URLS[Math.floor(o.random() * TEST_URLS.length)]!;
  const ua = UAS[o.index % UAS.length]!;
  const referrerKind = o.index % 4;
  const wire: Record<string, unknown> = {
    event_id: `${o.runId}-c-${o.index}`,
    user_id: userId,
    url,
    ua,
    ts: o.epochMillis ? o.tsMs : new Date(o.tsMs).toISOString(),
  };
  // referrer: a value, null, empty (= direct visit, stored as null) or absent
  if (referrerKind === 0) wire.referrer = 'https://www.google.com/search?q=shop';
  else if (referrerKind === 1) wire.referrer = null;
  else if (referrerKind === 2) wire.referrer = '';
  return {
    record: { partition: userIndex % o.partitions, key: userId, value: JSON.stringify(wire) },
    expected: {
      event_id: wire.event_id as string,
      user_id: userId,
      url,
      referrer: referrerKind === 0 ? 'https://www.google.com/search?q=shop' : null,
      ua,
      ts_ms: o.tsMs,
      partition: userIndex % o.partitions,
      offset: '',
    },
  };
}

export interface IotOptions {
  index: number;
  devices: number;
  partitions: number;
  tsMs: number;
  random: () => number;
  epochMillis?: boolean;
}

const SITES = ['plant-lyon', 'plant-porto', 'warehouse-gdansk', 'office-berlin'];

/** A valid IoT reading keyed by device_id; values include the legal bounds (battery 0 and 100). */
export function iotEvent(o: IotOptions): PlannedRecord<ExpectedIot> {
  const deviceIndex = Math.floor(o.random() * o.devices);
  const site = SITES[deviceIndex % SITES.length]!;
  const deviceId = `${site}-dev-${String(deviceIndex).padStart(3, '0')}`;
  const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;
  const temp = round(-20 + o.random() * 60, 2);
  const humidity = round(o.random() * 100, 1);
  const battery = o.index % 97 === 0 ? 0 : o.index % 89 === 0 ? 100 : round(o.random() * 100, 3);
  const signal = -Math.floor(o.random() * 120) - 20;
  const wire = {
    device_id: deviceId,
    site,
    temp_c: temp,
    humidity,
    battery,
    signal_strength: signal,
    ts: o.epochMillis ? o.tsMs : new Date(o.tsMs).toISOString(),
  };
  return {
    record: { partition: deviceIndex % o.partitions, key: deviceId, value: JSON.stringify(wire) },
    expected: {
      device_id: deviceId,
      site,
      temp_c: temp,
      humidity,
      battery,
      signal_strength: signal,
      ts_ms: o.tsMs,
      partition: deviceIndex % o.partitions,
      offset: '',
    },
  };
}

export type StreamName = 'clickstream' | 'iot';

/** A message the ETL must route to `_rejected` with `reason`. */
export interface BadMessage {
  name: string;
  stream: StreamName;
  value: string | Buffer | null;
  reason: RejectReason;
  /** What `_rejected.payload` must hold, and how it is encoded. */
  payload: string;
  encoding: 'utf8' | 'base64';
}

function bad(name: string, stream: StreamName, value: string | Buffer | null, reason: RejectReason): BadMessage {
  const buffer = value === null ? Buffer.alloc(0) : typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const encoding = reason === 'invalid_utf8' ? 'base64' : 'utf8';
  return {
    name,
    stream,
    value,
    reason,
    payload: encoding === 'base64' ? buffer.toString('base64') : buffer.toString('utf8'),
    encoding,
  };
}

/**
 * The catalogue of bad input the ETL must route to `_rejected` (plus a few neighbours). `maxEventBytes` is the
 * ETL's etl.max_event_bytes; `nowMs` the wall clock when they are produced (record timestamps).
 */
export function badMessages(runId: string, nowMs: number, maxEventBytes: number): BadMessage[] {
  const click = (extra: Record<string, unknown>, drop: string[] = []): string => {
    const event: Record<string, unknown> = {
      event_id: `${runId}-bad-${Math.random().toString(36).slice(2)}`,
      user_id: 'u-bad',
      url: 'https://shop.example.com/bad',
      ua: 'curl/8.0',
      ts: new Date(nowMs - 60_000).toISOString(),
      ...extra,
    };
    for (const d of drop) delete event[d];
    return JSON.stringify(event);
  };
  const reading = (extra: Record<string, unknown>, drop: string[] = []): string => {
    const event: Record<string, unknown> = {
      device_id: 'bad-dev-001',
      site: 'plant-lyon',
      temp_c: 21.5,
      humidity: 40,
      battery: 80,
      signal_strength: -70,
      ts: new Date(nowMs - 60_000).toISOString(),
      ...extra,
    };
    for (const d of drop) delete event[d];
    return JSON.stringify(event);
  };
  const yearMs = 366 * 86_400_000;
  return [
    bad('not JSON', 'clickstream', 'this is not json at all', 'not_json'),
    bad('truncated JSON', 'clickstream', click({}).slice(0, 40), 'not_json'),
    bad('JSON array', 'clickstream', `[${click({})}]`, 'not_object'),
    bad('JSON number', 'clickstream', '42', 'not_object'),
    bad('JSON string', 'clickstream', '"hello"', 'not_object'),
    bad('missing required field (url)', 'clickstream', click({}, ['url']), 'missing_field'),
    bad('url as number', 'clickstream', click({ url: 12345 }), 'wrong_type'),
    bad('empty value', 'clickstream', Buffer.alloc(0), 'empty'),
    bad('null value (tombstone)', 'clickstream', null, 'tombstone'),
    bad('larger than max_event_bytes', 'clickstream', click({ ua: 'x'.repeat(maxEventBytes + 6 * 1024) }), 'too_large'),
    bad(
      'invalid UTF-8',
      'clickstream',
      Buffer.concat([Buffer.from('{"event_id":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('","url":"x"}')]),
      'invalid_utf8',
    ),
    bad('ts unparseable', 'clickstream', click({ ts: 'yesterday at noon' }), 'ts_unparseable'),
    bad('ts in 1970', 'clickstream', click({ ts: '1970-01-01T00:00:01.000Z' }), 'ts_out_of_range'),
    bad('ts as epoch seconds (1970)', 'clickstream', click({ ts: Math.floor(nowMs / 1000) }), 'ts_out_of_range'),
    bad('ts a year ahead', 'clickstream', click({ ts: new Date(nowMs + yearMs).toISOString() }), 'ts_out_of_range'),
    bad('negative battery', 'iot', reading({ battery: -5 }), 'value_out_of_range'),
    bad('not JSON (iot)', 'iot', 'battery=low;temp=21', 'not_json'),
    bad('signal_strength as string', 'iot', reading({ signal_strength: '-70' }), 'wrong_type'),
    bad('missing device_id', 'iot', reading({}, ['device_id']), 'missing_field'),
    bad('tombstone (iot)', 'iot', null, 'tombstone'),
    bad('ts a year ahead (iot)', 'iot', reading({ ts: nowMs + yearMs }), 'ts_out_of_range'),
  ];
}

/** Writes rows as newline-delimited JSON for DuckDB's read_json. */
export function writeNdjson(file: string, rows: readonly object[]): void {
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/** Fills each planned record's expected offset from where it landed. */
export function fillOffsets<E extends { offset: string; partition: number }>(
  planned: ReadonlyArray<PlannedRecord<E>>,
  placed: readonly Placed[],
): void {
  planned.forEach((p, i) => {
    const at = placed[i]!;
    if (at.partition !== p.expected.partition)
      throw new Error(`record ${i} landed on partition ${at.partition}, planned ${p.expected.partition}`);
    p.expected.offset = at.offset.toString();
  });
}
