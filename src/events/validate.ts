import { isUtf8 } from 'node:buffer';
import { asciiBytes, asciiStringEnd, matchAt, numberEnd, readNumber } from './fastJson.js';
import { parseIsoTimestampMs } from './isoTimestamp.js';
import type { ClickstreamRow, IotRow, StreamName } from './types.js';

/**
 * The ETL's decoder: Kafka record value → validated row, or a rejection with a stable reason code
 * (architecture.md, "Data contracts": bad input goes to `_rejected` and a metric, never dropped, never a crash).
 *
 * Called once per record on the consuming hot path, so it is hand-written (no schema library) and
 * never throws for any input. The result depends only on its arguments, so a replay of the same
 * record gives the same verdict. Fields are checked in a fixed order; the first failure wins.
 * Unknown fields are ignored. A required field that is absent or JSON `null` is `missing_field`.
 *
 * Fast path: a value in the exact shape the project's producers write (JSON.stringify of
 * the event, fixed key order, ASCII, no escapes) that passes every check is read straight from its
 * bytes into the row; anything else (other shapes, and every value that fails a check) goes the
 * reference way below, so verdicts and rejection details are those of the reference decoder.
 */

export const REJECT_REASONS = [
  'tombstone',
  'empty',
  'too_large',
  'invalid_utf8',
  'not_json',
  'not_object',
  'missing_field',
  'wrong_type',
  'empty_field',
  'ts_unparseable',
  'ts_out_of_range',
  'value_out_of_range',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

export interface DecodeOptions {
  /** Values larger than this are rejected before any decoding. */
  maxEventBytes: number;
  /** An event time more than this after the record's timestamp is rejected. */
  maxFutureSkewMs: number;
  /**
   * The Kafka record's timestamp: the future bound is relative to it, not to the wall clock, so
   * the verdict is the same on replay. A negative or non-finite value (record without timestamp)
   * disables the future bound; the absolute bounds still apply.
   */
  recordTimestampMs: number;
}

export type Rejection = { ok: false; reason: RejectReason; detail: string };
export type DecodeResult<Row> = { ok: true; row: Row } | Rejection;

/** Event times before 2000-01-01T00:00:00Z are rejected: typically epoch seconds sent as millis. */
export const MIN_EVENT_TIME_MS = Date.UTC(2000, 0, 1);
/** The last instant a JS Date can hold; bounds event times when the record has no timestamp. */
export const MAX_EVENT_TIME_MS = 8.64e15;

/** Physical bounds of IoT values; anything outside is a broken sensor or a broken producer. */
export const IOT_VALUE_RANGES = {
  temp_c: { min: -90, max: 100 },
  humidity: { min: 0, max: 100 },
  battery: { min: 0, max: 100 },
  signal_strength: { min: -150, max: 0 },
} as const;

const MAX_DETAIL_CHARS = 200;
const QUOTE_BYTE = 0x22;

/** A class, so that internal helpers can tell a rejection from a parsed object with `instanceof`. */
class RejectionResult implements Rejection {
  readonly ok = false as const;
  constructor(
    readonly reason: RejectReason,
    readonly detail: string,
  ) {}
}

function reject(reason: RejectReason, detail: string): RejectionResult {
  return new RejectionResult(
    reason,
    detail.length > MAX_DETAIL_CHARS ? `${detail.slice(0, MAX_DETAIL_CHARS)}…` : detail,
  );
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** A rejection for a required field that is not of the expected type. */
function badField(field: string, value: unknown, expected: string): RejectionResult {
  if (value === undefined || value === null)
    return reject('missing_field', value === null ? `${field} is null` : field);
  return reject('wrong_type', `${field}: expected ${expected}, got ${typeName(value)}`);
}

function describeTimeMs(ms: number): string {
  return Math.abs(ms) <= MAX_EVENT_TIME_MS ? new Date(ms).toISOString() : String(ms);
}

/** The parsed JSON object, or a rejection. */
function decodeEnvelope(value: Buffer | null, maxEventBytes: number): Record<string, unknown> | RejectionResult {
  if (value === null || value === undefined) return reject('tombstone', 'null value');
  const sizeBytes = value.length;
  if (sizeBytes === 0) return reject('empty', 'zero-byte value');
  if (sizeBytes > maxEventBytes) return reject('too_large', `${sizeBytes} bytes > max_event_bytes ${maxEventBytes}`);
  if (!isUtf8(value)) return reject('invalid_utf8', `${sizeBytes} bytes are not valid UTF-8`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return reject('not_json', err instanceof Error ? err.message : String(err));
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return reject('not_object', `JSON ${typeName(parsed)}, expected an object`);
  }
  return parsed as Record<string, unknown>;
}

// Events of one producer batch share their ts text: remember the last parse.
let lastTsText = '';
let lastTsMs = Number.NaN;

/** Event time in epoch ms, or a rejection. */
function decodeTs(value: unknown, opts: DecodeOptions): number | RejectionResult {
  let tsMs: number;
  if (typeof value === 'string') {
    if (value.length === 0) return reject('empty_field', 'ts is empty');
    if (value === lastTsText) {
      tsMs = lastTsMs;
    } else {
      tsMs = parseIsoTimestampMs(value);
      if (Number.isNaN(tsMs))
        return reject('ts_unparseable', `ts ${JSON.stringify(value)} is not ISO-8601 with a timezone`);
      lastTsText = value;
      lastTsMs = tsMs;
    }
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value)) return reject('ts_unparseable', `ts ${value} is not integer epoch milliseconds`);
    tsMs = value;
  } else {
    return badField('ts', value, 'ISO-8601 string or epoch milliseconds');
  }
  if (tsMs < MIN_EVENT_TIME_MS)
    return reject('ts_out_of_range', `ts ${describeTimeMs(tsMs)} is before 2000-01-01T00:00:00Z`);
  const recordTimestampMs = opts.recordTimestampMs;
  if (recordTimestampMs >= 0 && Number.isFinite(recordTimestampMs)) {
    const skewMs = tsMs - recordTimestampMs;
    if (skewMs > opts.maxFutureSkewMs) {
      return reject(
        'ts_out_of_range',
        `ts ${describeTimeMs(tsMs)} is ${skewMs} ms after the record timestamp ${describeTimeMs(recordTimestampMs)} (max_future_skew ${opts.maxFutureSkewMs} ms)`,
      );
    }
  }
  if (tsMs > MAX_EVENT_TIME_MS) return reject('ts_out_of_range', `ts ${tsMs} is beyond the representable time range`);
  return tsMs;
}

/** Reads `buf[start, end)` as a string; the fast path only calls it on ASCII bytes. */
function ascii(buf: Buffer, start: number, end: number): string {
  return (buf as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(start, end);
}

const CS_EVENT_ID = asciiBytes('{"event_id":"');
const CS_USER_ID = asciiBytes('","user_id":"');
const CS_URL = asciiBytes('","url":"');
const CS_REFERRER = asciiBytes('","referrer":');
const CS_REFERRER_NULL = asciiBytes('null,"ua":"');
const CS_UA = asciiBytes('","ua":"');
const CS_TS = asciiBytes('","ts":"');
const IOT_DEVICE_ID = asciiBytes('{"device_id":"');
const IOT_SITE = asciiBytes('","site":"');
const IOT_TEMP_C = asciiBytes('","temp_c":');
const IOT_HUMIDITY = asciiBytes(',"humidity":');
const IOT_BATTERY = asciiBytes(',"battery":');
const IOT_SIGNAL = asciiBytes(',"signal_strength":');
const IOT_TS = asciiBytes(',"ts":"');

/**
 * What a fast scan found (one reused object, valid until the next scan): byte spans of the string
 * fields, the IoT measures and the event time. Lets the caller copy fields straight from the
 * record's bytes into column buffers without making a string or a row object.
 */
export interface FastScan {
  /**
   * `[start, end)` pairs of the string fields in the table's column order: clickstream event_id,
   * user_id, url, referrer (-1, -1 when null), ua; IoT device_id, site. The bytes are ASCII.
   */
  readonly spans: Int32Array;
  /** IoT: temp_c, humidity, battery, signal_strength. */
  readonly numbers: Float64Array;
  tsMs: number;
}

export function newFastScan(): FastScan {
  return { spans: new Int32Array(10), numbers: new Float64Array(4), tsMs: Number.NaN };
}

// The last ts text seen by the fast path, as bytes: events of one producer batch share it.
const lastTsBytes = new Uint8Array(64);
let lastTsLength = -1;
let lastTsBytesMs = Number.NaN;

/** The event time of the ASCII ts text `buf[start, end)` if it passes every check of `decodeTs`, else NaN. */
function fastTs(buf: Buffer, start: number, end: number, opts: DecodeOptions): number {
  const len = end - start;
  if (len <= 0) return Number.NaN;
  let tsMs: number;
  let same = len === lastTsLength;
  for (let i = 0; same && i < len; i++) same = buf[start + i] === lastTsBytes[i];
  if (same) {
    tsMs = lastTsBytesMs;
  } else {
    tsMs = parseIsoTimestampMs(ascii(buf, start, end));
    if (Number.isNaN(tsMs)) return Number.NaN;
    if (len <= lastTsBytes.length) {
      for (let i = 0; i < len; i++) lastTsBytes[i] = buf[start + i]!;
      lastTsLength = len;
      lastTsBytesMs = tsMs;
    }
  }
  // The range checks of decodeTs, in the same terms.
  if (tsMs < MIN_EVENT_TIME_MS || tsMs > MAX_EVENT_TIME_MS) return Number.NaN;
  const recordTimestampMs = opts.recordTimestampMs;
  if (recordTimestampMs >= 0 && Number.isFinite(recordTimestampMs) && tsMs - recordTimestampMs > opts.maxFutureSkewMs)
    return Number.NaN;
  return tsMs;
}

/**
 * Whether `buf` is a producer-shaped clickstream value that passes every check; fills `scan` then.
 * False: the reference decoder decides.
 */
export function scanClickstream(buf: Buffer, opts: DecodeOptions, scan: FastScan): boolean {
  const n = buf.length;
  if (n === 0 || n > opts.maxEventBytes || buf[n - 1] !== 0x7d || buf[n - 2] !== QUOTE_BYTE) return false;
  if (!matchAt(buf, 0, CS_EVENT_ID)) return false;
  const spans = scan.spans;
  let start = CS_EVENT_ID.length;
  let end = asciiStringEnd(buf, start);
  if (end <= start) return false;
  spans[0] = start;
  spans[1] = end;
  if (!matchAt(buf, end, CS_USER_ID)) return false;
  start = end + CS_USER_ID.length;
  end = asciiStringEnd(buf, start);
  if (end <= start) return false;
  spans[2] = start;
  spans[3] = end;
  if (!matchAt(buf, end, CS_URL)) return false;
  start = end + CS_URL.length;
  end = asciiStringEnd(buf, start);
  if (end <= start) return false;
  spans[4] = start;
  spans[5] = end;
  if (!matchAt(buf, end, CS_REFERRER)) return false;
  start = end + CS_REFERRER.length;
  if (buf[start] === QUOTE_BYTE) {
    start++;
    end = asciiStringEnd(buf, start);
    if (end < 0) return false;
    // An empty referrer is a direct visit: null, as the reference decoder has it.
    spans[6] = end === start ? -1 : start;
    spans[7] = end === start ? -1 : end;
    if (!matchAt(buf, end, CS_UA)) return false;
    start = end + CS_UA.length;
  } else {
    spans[6] = -1;
    spans[7] = -1;
    if (!matchAt(buf, start, CS_REFERRER_NULL)) return false;
    start += CS_REFERRER_NULL.length;
  }
  end = asciiStringEnd(buf, start);
  if (end <= start) return false;
  spans[8] = start;
  spans[9] = end;
  if (!matchAt(buf, end, CS_TS)) return false;
  start = end + CS_TS.length;
  end = asciiStringEnd(buf, start);
  if (end !== n - 2) return false;
  const tsMs = fastTs(buf, start, end, opts);
  if (Number.isNaN(tsMs)) return false;
  scan.tsMs = tsMs;
  return true;
}

const scratch = newFastScan();

/** The valid row of a producer-shaped clickstream value, or undefined (then the reference decides). */
export function fastClickstream(buf: Buffer, opts: DecodeOptions): ClickstreamRow | undefined {
  if (!scanClickstream(buf, opts, scratch)) return undefined;
  const s = scratch.spans;
  return {
    event_id: ascii(buf, s[0]!, s[1]!),
    user_id: ascii(buf, s[2]!, s[3]!),
    url: ascii(buf, s[4]!, s[5]!),
    referrer: s[6]! < 0 ? null : ascii(buf, s[6]!, s[7]!),
    ua: ascii(buf, s[8]!, s[9]!),
    tsMs: scratch.tsMs,
  };
}

function inRange(field: keyof typeof IOT_VALUE_RANGES, value: number): boolean {
  const range = IOT_VALUE_RANGES[field];
  return value >= range.min && value <= range.max;
}

/** Whether `buf` is a producer-shaped IoT value that passes every check; fills `scan` then. */
export function scanIot(buf: Buffer, opts: DecodeOptions, scan: FastScan): boolean {
  const n = buf.length;
  if (n === 0 || n > opts.maxEventBytes || buf[n - 1] !== 0x7d || buf[n - 2] !== QUOTE_BYTE) return false;
  if (!matchAt(buf, 0, IOT_DEVICE_ID)) return false;
  const spans = scan.spans;
  const numbers = scan.numbers;
  let start = IOT_DEVICE_ID.length;
  let end = asciiStringEnd(buf, start);
  if (end <= start) return false;
  spans[0] = start;
  spans[1] = end;
  if (!matchAt(buf, end, IOT_SITE)) return false;
  start = end + IOT_SITE.length;
  end = asciiStringEnd(buf, start);
  if (end <= start) return false;
  spans[2] = start;
  spans[3] = end;
  if (!matchAt(buf, end, IOT_TEMP_C)) return false;
  const tempC = readNumber(buf, end + IOT_TEMP_C.length);
  if (!inRange('temp_c', tempC) || !matchAt(buf, numberEnd, IOT_HUMIDITY)) return false;
  const humidity = readNumber(buf, numberEnd + IOT_HUMIDITY.length);
  if (!inRange('humidity', humidity) || !matchAt(buf, numberEnd, IOT_BATTERY)) return false;
  const battery = readNumber(buf, numberEnd + IOT_BATTERY.length);
  if (!inRange('battery', battery) || !matchAt(buf, numberEnd, IOT_SIGNAL)) return false;
  const signalStrength = readNumber(buf, numberEnd + IOT_SIGNAL.length);
  if (
    !inRange('signal_strength', signalStrength) ||
    !Number.isInteger(signalStrength) ||
    !matchAt(buf, numberEnd, IOT_TS)
  )
    return false;
  start = numberEnd + IOT_TS.length;
  end = asciiStringEnd(buf, start);
  if (end !== n - 2) return false;
  const tsMs = fastTs(buf, start, end, opts);
  if (Number.isNaN(tsMs)) return false;
  numbers[0] = tempC;
  numbers[1] = humidity;
  numbers[2] = battery;
  numbers[3] = signalStrength;
  scan.tsMs = tsMs;
  return true;
}

/** The valid row of a producer-shaped IoT value, or undefined (then the reference decides). */
export function fastIot(buf: Buffer, opts: DecodeOptions): IotRow | undefined {
  if (!scanIot(buf, opts, scratch)) return undefined;
  const s = scratch.spans;
  const v = scratch.numbers;
  return {
    device_id: ascii(buf, s[0]!, s[1]!),
    site: ascii(buf, s[2]!, s[3]!),
    temp_c: v[0]!,
    humidity: v[1]!,
    battery: v[2]!,
    signal_strength: v[3]!,
    tsMs: scratch.tsMs,
  };
}

export function decodeClickstream(value: Buffer | null, opts: DecodeOptions): DecodeResult<ClickstreamRow> {
  if (value !== null && value !== undefined) {
    const row = fastClickstream(value, opts);
    if (row !== undefined) return { ok: true, row };
  }
  return decodeClickstreamReference(value, opts);
}

/** The reference decoder: JSON.parse and field-by-field checks (every verdict and detail). */
export function decodeClickstreamReference(value: Buffer | null, opts: DecodeOptions): DecodeResult<ClickstreamRow> {
  const event = decodeEnvelope(value, opts.maxEventBytes);
  if (event instanceof RejectionResult) return event;

  const eventId = event.event_id;
  if (typeof eventId !== 'string') return badField('event_id', eventId, 'string');
  if (eventId.length === 0) return reject('empty_field', 'event_id is empty');
  const userId = event.user_id;
  if (typeof userId !== 'string') return badField('user_id', userId, 'string');
  if (userId.length === 0) return reject('empty_field', 'user_id is empty');
  const url = event.url;
  if (typeof url !== 'string') return badField('url', url, 'string');
  if (url.length === 0) return reject('empty_field', 'url is empty');
  const rawReferrer = event.referrer;
  let referrer: string | null;
  if (typeof rawReferrer === 'string') referrer = rawReferrer.length === 0 ? null : rawReferrer;
  else if (rawReferrer === undefined || rawReferrer === null) referrer = null;
  else return reject('wrong_type', `referrer: expected string or null, got ${typeName(rawReferrer)}`);
  const ua = event.ua;
  if (typeof ua !== 'string') return badField('ua', ua, 'string');
  if (ua.length === 0) return reject('empty_field', 'ua is empty');
  const tsMs = decodeTs(event.ts, opts);
  if (typeof tsMs !== 'number') return tsMs;

  return { ok: true, row: { event_id: eventId, user_id: userId, url, referrer, ua, tsMs } };
}

/** A finite number within [min, max], or a rejection. */
function checkMeasure(field: keyof typeof IOT_VALUE_RANGES, value: unknown): RejectionResult | undefined {
  if (typeof value !== 'number') return badField(field, value, 'number');
  const range = IOT_VALUE_RANGES[field];
  // Written so that NaN fails too (every comparison with NaN is false).
  if (!(value >= range.min && value <= range.max)) {
    return reject('value_out_of_range', `${field} ${value} is outside [${range.min}, ${range.max}]`);
  }
  return undefined;
}

export function decodeIot(value: Buffer | null, opts: DecodeOptions): DecodeResult<IotRow> {
  if (value !== null && value !== undefined) {
    const row = fastIot(value, opts);
    if (row !== undefined) return { ok: true, row };
  }
  return decodeIotReference(value, opts);
}

/** The reference decoder: JSON.parse and field-by-field checks (every verdict and detail). */
export function decodeIotReference(value: Buffer | null, opts: DecodeOptions): DecodeResult<IotRow> {
  const event = decodeEnvelope(value, opts.maxEventBytes);
  if (event instanceof RejectionResult) return event;

  const deviceId = event.device_id;
  if (typeof deviceId !== 'string') return badField('device_id', deviceId, 'string');
  if (deviceId.length === 0) return reject('empty_field', 'device_id is empty');
  const site = event.site;
  if (typeof site !== 'string') return badField('site', site, 'string');
  if (site.length === 0) return reject('empty_field', 'site is empty');
  const tempC = event.temp_c;
  const tempRejection = checkMeasure('temp_c', tempC);
  if (tempRejection !== undefined) return tempRejection;
  const humidity = event.humidity;
  const humidityRejection = checkMeasure('humidity', humidity);
  if (humidityRejection !== undefined) return humidityRejection;
  const battery = event.battery;
  const batteryRejection = checkMeasure('battery', battery);
  if (batteryRejection !== undefined) return batteryRejection;
  const signalStrength = event.signal_strength;
  const signalRejection = checkMeasure('signal_strength', signalStrength);
  if (signalRejection !== undefined) return signalRejection;
  if (!Number.isInteger(signalStrength)) {
    return reject('value_out_of_range', `signal_strength ${String(signalStrength)} is not an integer (dBm)`);
  }
  const tsMs = decodeTs(event.ts, opts);
  if (typeof tsMs !== 'number') return tsMs;

  return {
    ok: true,
    row: {
      device_id: deviceId,
      site,
      temp_c: tempC as number,
      humidity: humidity as number,
      battery: battery as number,
      signal_strength: signalStrength as number,
      tsMs,
    },
  };
}

export function decodeEvent(
  stream: 'clickstream',
  value: Buffer | null,
  opts: DecodeOptions,
): DecodeResult<ClickstreamRow>;
export function decodeEvent(stream: 'iot', value: Buffer | null, opts: DecodeOptions): DecodeResult<IotRow>;
export function decodeEvent(
  stream: StreamName,
  value: Buffer | null,
  opts: DecodeOptions,
): DecodeResult<ClickstreamRow | IotRow>;
export function decodeEvent(
  stream: StreamName,
  value: Buffer | null,
  opts: DecodeOptions,
): DecodeResult<ClickstreamRow | IotRow> {
  return stream === 'clickstream' ? decodeClickstream(value, opts) : decodeIot(value, opts);
}

/** The reference decoder of `stream` (tests compare the fast path against it). */
export function decodeEventReference(
  stream: StreamName,
  value: Buffer | null,
  opts: DecodeOptions,
): DecodeResult<ClickstreamRow | IotRow> {
  return stream === 'clickstream' ? decodeClickstreamReference(value, opts) : decodeIotReference(value, opts);
}
