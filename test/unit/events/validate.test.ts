import { describe, expect, it } from 'vitest';
import { decodeEvent, REJECT_REASONS, type DecodeOptions, type RejectReason } from '../../../src/events/validate.js';

const RECORD_TS_MS = Date.UTC(2024, 4, 1, 12, 0, 0);
const OPTS: DecodeOptions = { maxEventBytes: 1024, maxFutureSkewMs: 3_600_000, recordTimestampMs: RECORD_TS_MS };

const CLICK = {
  event_id: '0b7c4e7a-1f2d-4c3b-9a8e-5d6f7a8b9c0d',
  user_id: 'u-000123',
  url: 'https://shop.example.com/c/books',
  referrer: 'https://www.google.com/search?q=books',
  ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  ts: '2024-05-01T11:59:30.250Z',
};

const IOT = {
  device_id: 'lyon-th-0042',
  site: 'plant-lyon',
  temp_c: 21.37,
  humidity: 44.5,
  battery: 87.25,
  signal_strength: -71,
  ts: '2024-05-01T11:59:30Z',
};

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function text(value: string): Buffer {
  return Buffer.from(value, 'utf8');
}

function expectRejected(result: ReturnType<typeof decodeEvent>, reason: RejectReason, detail?: RegExp): void {
  if (result.ok) throw new Error(`expected a ${reason} rejection, got a row: ${JSON.stringify(result.row)}`);
  expect(result.reason).toBe(reason);
  expect(REJECT_REASONS).toContain(result.reason);
  expect(result.detail.length).toBeGreaterThan(0);
  if (detail) expect(result.detail).toMatch(detail);
}

describe('decodeEvent: accepted events', () => {
  it('decodes a clickstream event into a row with the event time in epoch ms', () => {
    const result = decodeEvent('clickstream', json(CLICK), OPTS);
    expect(result).toEqual({
      ok: true,
      row: {
        event_id: CLICK.event_id,
        user_id: CLICK.user_id,
        url: CLICK.url,
        referrer: CLICK.referrer,
        ua: CLICK.ua,
        tsMs: Date.UTC(2024, 4, 1, 11, 59, 30, 250),
      },
    });
  });

  it('decodes an IoT event into a row', () => {
    const result = decodeEvent('iot', json(IOT), OPTS);
    expect(result).toEqual({
      ok: true,
      row: {
        device_id: 'lyon-th-0042',
        site: 'plant-lyon',
        temp_c: 21.37,
        humidity: 44.5,
        battery: 87.25,
        signal_strength: -71,
        tsMs: Date.UTC(2024, 4, 1, 11, 59, 30),
      },
    });
  });

  it('accepts ts as integer epoch millis', () => {
    const tsMs = RECORD_TS_MS - 5000;
    const result = decodeEvent('clickstream', json({ ...CLICK, ts: tsMs }), OPTS);
    expect(result.ok && result.row.tsMs).toBe(tsMs);
    const iot = decodeEvent('iot', json({ ...IOT, ts: tsMs }), OPTS);
    expect(iot.ok && iot.row.tsMs).toBe(tsMs);
  });

  it('converts an ISO offset to UTC', () => {
    const plus = decodeEvent('clickstream', json({ ...CLICK, ts: '2024-05-01T13:30:00+02:00' }), OPTS);
    expect(plus.ok && plus.row.tsMs).toBe(Date.UTC(2024, 4, 1, 11, 30, 0));
    const minus = decodeEvent('clickstream', json({ ...CLICK, ts: '2024-05-01T08:15:00.5-03:30' }), OPTS);
    expect(minus.ok && minus.row.tsMs).toBe(Date.UTC(2024, 4, 1, 11, 45, 0, 500));
    // Across midnight and a month end.
    const early = decodeEvent('clickstream', json({ ...CLICK, ts: '2024-05-01T01:00:00+05:00' }), OPTS);
    expect(early.ok && new Date(early.row.tsMs).toISOString()).toBe('2024-04-30T20:00:00.000Z');
  });

  it('accepts fractional seconds of any precision up to nanoseconds (truncated to ms), and lower-case t/z', () => {
    const cases: [string, number][] = [
      ['2024-05-01T11:00:00.1Z', 100],
      ['2024-05-01T11:00:00.12Z', 120],
      ['2024-05-01T11:00:00.123456789Z', 123],
      ['2024-05-01t11:00:00.999z', 999],
    ];
    for (const [ts, millis] of cases) {
      const result = decodeEvent('clickstream', json({ ...CLICK, ts }), OPTS);
      expect(result.ok && result.row.tsMs).toBe(Date.UTC(2024, 4, 1, 11, 0, 0, millis));
    }
  });

  it('maps an absent, null or empty referrer to null', () => {
    const { referrer: _omitted, ...withoutReferrer } = CLICK;
    for (const event of [withoutReferrer, { ...CLICK, referrer: null }, { ...CLICK, referrer: '' }]) {
      const result = decodeEvent('clickstream', json(event), OPTS);
      expect(result.ok && result.row.referrer).toBeNull();
    }
  });

  it('ignores extra unknown fields', () => {
    const result = decodeEvent(
      'clickstream',
      json({ ...CLICK, session_id: 's-1', nested: { a: [1, 2] }, extra: null }),
      OPTS,
    );
    expect(result.ok).toBe(true);
    expect(result.ok && Object.keys(result.row).sort()).toEqual(
      ['event_id', 'referrer', 'tsMs', 'ua', 'url', 'user_id'].sort(),
    );
    const iot = decodeEvent('iot', json({ ...IOT, firmware: '1.2.3' }), OPTS);
    expect(iot.ok).toBe(true);
  });

  it('accepts non-ASCII UTF-8 text and a value of exactly max_event_bytes', () => {
    const unicode = decodeEvent(
      'clickstream',
      json({ ...CLICK, url: 'https://shop.example.com/p/café-crème-☕' }),
      OPTS,
    );
    expect(unicode.ok && unicode.row.url).toBe('https://shop.example.com/p/café-crème-☕');
    const base = json({ ...CLICK, pad: '' });
    const exact = json({ ...CLICK, pad: 'x'.repeat(OPTS.maxEventBytes - base.length) });
    expect(exact.length).toBe(OPTS.maxEventBytes);
    expect(decodeEvent('clickstream', exact, OPTS).ok).toBe(true);
  });

  it('accepts IoT values on the edges of their ranges, and integral floats for signal_strength', () => {
    const edges = { ...IOT, temp_c: -90, humidity: 100, battery: 0, signal_strength: -150 };
    expect(decodeEvent('iot', json(edges), OPTS).ok).toBe(true);
    const result = decodeEvent('iot', text(JSON.stringify(IOT).replace('-71', '-71.0')), OPTS);
    expect(result.ok && result.row.signal_strength).toBe(-71);
  });

  it('accepts an event time up to max_future_skew after the record timestamp, and any time when the record has none', () => {
    expect(decodeEvent('clickstream', json({ ...CLICK, ts: RECORD_TS_MS + OPTS.maxFutureSkewMs }), OPTS).ok).toBe(true);
    const noRecordTs = { ...OPTS, recordTimestampMs: -1 };
    expect(decodeEvent('clickstream', json({ ...CLICK, ts: '2030-01-01T00:00:00Z' }), noRecordTs).ok).toBe(true);
  });
});

describe('decodeEvent: rejections, one per reason', () => {
  it('lists every reason once, as stable codes', () => {
    expect(new Set(REJECT_REASONS).size).toBe(REJECT_REASONS.length);
    for (const reason of REJECT_REASONS) expect(reason).toMatch(/^[a-z0-9_]+$/);
  });

  it('tombstone: null value', () => {
    expectRejected(decodeEvent('clickstream', null, OPTS), 'tombstone');
    expectRejected(decodeEvent('iot', null, OPTS), 'tombstone');
  });

  it('empty: zero bytes', () => {
    expectRejected(decodeEvent('clickstream', Buffer.alloc(0), OPTS), 'empty');
  });

  it('too_large: more than max_event_bytes, checked before decoding', () => {
    const big = json({ ...CLICK, pad: 'x'.repeat(OPTS.maxEventBytes) });
    expectRejected(decodeEvent('clickstream', big, OPTS), 'too_large', /max_event_bytes 1024/);
    // Size wins over content: an oversized value that is not even UTF-8 is still too_large.
    expectRejected(decodeEvent('clickstream', Buffer.alloc(OPTS.maxEventBytes + 1, 0xff), OPTS), 'too_large');
  });

  it('invalid_utf8', () => {
    expectRejected(decodeEvent('clickstream', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), OPTS), 'invalid_utf8');
    // A lone surrogate encoded as UTF-8 (CESU) is invalid too.
    expectRejected(decodeEvent('clickstream', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), OPTS), 'invalid_utf8');
  });

  it('not_json: garbage, truncated JSON, trailing garbage', () => {
    expectRejected(decodeEvent('clickstream', text('hello world'), OPTS), 'not_json');
    const full = JSON.stringify(CLICK);
    expectRejected(decodeEvent('clickstream', text(full.slice(0, full.length - 10)), OPTS), 'not_json');
    expectRejected(decodeEvent('clickstream', text('{'), OPTS), 'not_json');
    expectRejected(decodeEvent('clickstream', text(`${full}}`), OPTS), 'not_json');
    expectRejected(decodeEvent('iot', text("{'device_id': 'x'}"), OPTS), 'not_json');
  });

  it('not_object: JSON array, number, string, null, boolean', () => {
    expectRejected(decodeEvent('clickstream', text(`[${JSON.stringify(CLICK)}]`), OPTS), 'not_object', /array/);
    expectRejected(decodeEvent('clickstream', text('42'), OPTS), 'not_object', /number/);
    expectRejected(decodeEvent('clickstream', text('"event"'), OPTS), 'not_object', /string/);
    expectRejected(decodeEvent('clickstream', text('null'), OPTS), 'not_object', /null/);
    expectRejected(decodeEvent('iot', text('true'), OPTS), 'not_object', /boolean/);
  });

  it('missing_field: names the field, for every required field of both streams', () => {
    for (const field of ['event_id', 'user_id', 'url', 'ua', 'ts'] as const) {
      const { [field]: _removed, ...event } = CLICK;
      expectRejected(decodeEvent('clickstream', json(event), OPTS), 'missing_field', new RegExp(`^${field}`));
      expectRejected(
        decodeEvent('clickstream', json({ ...CLICK, [field]: null }), OPTS),
        'missing_field',
        new RegExp(`^${field} is null`),
      );
    }
    for (const field of ['device_id', 'site', 'temp_c', 'humidity', 'battery', 'signal_strength', 'ts'] as const) {
      const { [field]: _removed, ...event } = IOT;
      expectRejected(decodeEvent('iot', json(event), OPTS), 'missing_field', new RegExp(`^${field}`));
    }
  });

  it('wrong_type: names the field and the type seen', () => {
    expectRejected(
      decodeEvent('clickstream', json({ ...CLICK, url: 42 }), OPTS),
      'wrong_type',
      /^url: expected string, got number$/,
    );
    expectRejected(
      decodeEvent('clickstream', json({ ...CLICK, user_id: ['u-1'] }), OPTS),
      'wrong_type',
      /user_id.*array/,
    );
    expectRejected(decodeEvent('clickstream', json({ ...CLICK, referrer: 7 }), OPTS), 'wrong_type', /referrer.*number/);
    expectRejected(decodeEvent('clickstream', json({ ...CLICK, ts: true }), OPTS), 'wrong_type', /ts.*boolean/);
    expectRejected(
      decodeEvent('iot', json({ ...IOT, temp_c: '21.5' }), OPTS),
      'wrong_type',
      /temp_c: expected number, got string/,
    );
    expectRejected(decodeEvent('iot', json({ ...IOT, signal_strength: '-70' }), OPTS), 'wrong_type', /signal_strength/);
    expectRejected(decodeEvent('iot', json({ ...IOT, site: { name: 'lyon' } }), OPTS), 'wrong_type', /site.*object/);
  });

  it('empty_field: a required string is empty', () => {
    expectRejected(decodeEvent('clickstream', json({ ...CLICK, user_id: '' }), OPTS), 'empty_field', /user_id/);
    expectRejected(decodeEvent('clickstream', json({ ...CLICK, ts: '' }), OPTS), 'empty_field', /ts/);
    expectRejected(decodeEvent('iot', json({ ...IOT, device_id: '' }), OPTS), 'empty_field', /device_id/);
  });

  it('ts_unparseable: not ISO-8601 with a timezone, or not integral millis', () => {
    const bad = [
      'yesterday',
      '1714560000000', // numeric string: a string must be ISO
      '2024-05-01', // bare date
      '2024-05-01T12:00:00', // no timezone: local time is ambiguous
      '2024-05-01 12:00:00Z',
      '2024-05-01T12:00Z', // seconds are required
      '2024-02-30T12:00:00Z', // no such day
      '2023-02-29T12:00:00Z', // not a leap year
      '2024-13-01T12:00:00Z',
      '2024-05-01T24:00:00Z',
      '2024-05-01T12:00:60Z', // leap second
      '2024-05-01T12:00:00.Z',
      '2024-05-01T12:00:00+0200',
      '2024-05-01T12:00:00+24:00',
      '2024-05-01T12:00:00Zjunk',
      'Wed, 01 May 2024 12:00:00 GMT',
    ];
    for (const ts of bad) expectRejected(decodeEvent('clickstream', json({ ...CLICK, ts }), OPTS), 'ts_unparseable');
    expectRejected(decodeEvent('clickstream', json({ ...CLICK, ts: RECORD_TS_MS + 0.5 }), OPTS), 'ts_unparseable');
    // Leap day of a leap year is fine.
    expect(decodeEvent('clickstream', json({ ...CLICK, ts: '2024-02-29T12:00:00Z' }), OPTS).ok).toBe(true);
  });

  it('ts_out_of_range: 1970 (epoch seconds sent as millis), a year ahead, before 2000', () => {
    expectRejected(
      decodeEvent('clickstream', json({ ...CLICK, ts: 1714000000 }), OPTS),
      'ts_out_of_range',
      /1970-01-20/,
    );
    expectRejected(
      decodeEvent('clickstream', json({ ...CLICK, ts: '2025-05-01T12:00:00Z' }), OPTS),
      'ts_out_of_range',
      /after the record timestamp/,
    );
    expectRejected(
      decodeEvent('clickstream', json({ ...CLICK, ts: '1999-12-31T23:59:59.999Z' }), OPTS),
      'ts_out_of_range',
      /before 2000/,
    );
    expectRejected(decodeEvent('iot', json({ ...IOT, ts: 0 }), OPTS), 'ts_out_of_range');
    expectRejected(decodeEvent('iot', json({ ...IOT, ts: -1 }), OPTS), 'ts_out_of_range');
    expectRejected(
      decodeEvent('clickstream', json({ ...CLICK, ts: RECORD_TS_MS + OPTS.maxFutureSkewMs + 1 }), OPTS),
      'ts_out_of_range',
    );
    // Beyond what a Date can hold, with or without a record timestamp, without throwing.
    expectRejected(decodeEvent('clickstream', json({ ...CLICK, ts: 1e20 }), OPTS), 'ts_out_of_range');
    expectRejected(
      decodeEvent('clickstream', json({ ...CLICK, ts: 1e20 }), { ...OPTS, recordTimestampMs: -1 }),
      'ts_out_of_range',
    );
    // An offset can move a 1999 wall-clock time into 2000, and the reverse.
    expect(decodeEvent('clickstream', json({ ...CLICK, ts: '1999-12-31T23:30:00-01:00' }), OPTS).ok).toBe(true);
    expectRejected(
      decodeEvent('clickstream', json({ ...CLICK, ts: '2000-01-01T00:30:00+01:00' }), OPTS),
      'ts_out_of_range',
    );
  });

  it('ts verdicts depend on the record timestamp, not on the wall clock (replay gives the same answer)', () => {
    const event = json({ ...CLICK, ts: '2024-05-01T14:00:00Z' });
    const first = decodeEvent('clickstream', event, OPTS);
    expectRejected(first, 'ts_out_of_range');
    expect(decodeEvent('clickstream', event, OPTS)).toEqual(first);
    expect(decodeEvent('clickstream', event, { ...OPTS, recordTimestampMs: Date.UTC(2024, 4, 1, 13, 30) }).ok).toBe(
      true,
    );
  });

  it('value_out_of_range: negative battery and other impossible readings', () => {
    expectRejected(decodeEvent('iot', json({ ...IOT, battery: -1 }), OPTS), 'value_out_of_range', /battery -1/);
    expectRejected(decodeEvent('iot', json({ ...IOT, battery: 100.01 }), OPTS), 'value_out_of_range', /battery/);
    expectRejected(decodeEvent('iot', json({ ...IOT, humidity: 101 }), OPTS), 'value_out_of_range', /humidity/);
    expectRejected(decodeEvent('iot', json({ ...IOT, humidity: -0.1 }), OPTS), 'value_out_of_range', /humidity/);
    expectRejected(decodeEvent('iot', json({ ...IOT, temp_c: -273.15 }), OPTS), 'value_out_of_range', /temp_c/);
    expectRejected(decodeEvent('iot', json({ ...IOT, temp_c: 150 }), OPTS), 'value_out_of_range', /temp_c/);
    expectRejected(
      decodeEvent('iot', json({ ...IOT, signal_strength: 5 }), OPTS),
      'value_out_of_range',
      /signal_strength/,
    );
    expectRejected(
      decodeEvent('iot', json({ ...IOT, signal_strength: -200 }), OPTS),
      'value_out_of_range',
      /signal_strength/,
    );
    expectRejected(
      decodeEvent('iot', json({ ...IOT, signal_strength: -70.5 }), OPTS),
      'value_out_of_range',
      /not an integer/,
    );
    // JSON cannot say NaN, but 1e400 parses to Infinity.
    expectRejected(
      decodeEvent('iot', text(JSON.stringify(IOT).replace('21.37', '1e400')), OPTS),
      'value_out_of_range',
      /temp_c Infinity/,
    );
    expectRejected(
      decodeEvent('iot', text(JSON.stringify(IOT).replace('44.5', '-1e400')), OPTS),
      'value_out_of_range',
      /humidity/,
    );
  });

  it('reports the first failing field in a fixed order', () => {
    const result = decodeEvent('iot', json({ ...IOT, site: 3, battery: -5, ts: 'never' }), OPTS);
    expectRejected(result, 'wrong_type', /^site/);
  });

  it('never throws, whatever the bytes', () => {
    const samples = ['{"__proto__": {"x": 1}}', '{"event_id": {}}', '[]', '{}', ' ', '\u0000', '{"a":'.repeat(100)];
    for (const sample of samples) {
      for (const stream of ['clickstream', 'iot'] as const) {
        const result = decodeEvent(stream, text(sample), OPTS);
        expect(result.ok).toBe(false);
      }
    }
    // Deep nesting is within max_event_bytes but must not blow the stack into an exception.
    expect(decodeEvent('clickstream', text('['.repeat(1000)), { ...OPTS, maxEventBytes: 10_000 }).ok).toBe(false);
  });
});
