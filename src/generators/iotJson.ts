/**
 * An IoT reading's JSON written as bytes straight into its record (recordSink.ts): the same bytes as
 * `JSON.stringify` of the event iot.ts's `next` would have made. A device's id and site are encoded
 * once with the field names around them; the readings are written digit by digit from their
 * rounded values scaled to integers (asciiJson.ts), no number turned into a string
 * (architecture.md, "Data flow").
 */
import { asciiBytes, isWritableScaled, writeBytes, writeScaled } from './asciiJson.js';
import type { RecordSink } from './recordSink.js';

/** Decimals of each reading in the event. */
export const IOT_DECIMALS = { tempC: 2, humidity: 1, battery: 2, signalDbm: 0 } as const;

const HUMIDITY = asciiBytes(',"humidity":');
const BATTERY = asciiBytes(',"battery":');
const SIGNAL = asciiBytes(',"signal_strength":');
/** Longest timestamp text: toISOString's extended years (`+275760-09-13T00:00:00.000Z`). */
const MAX_TS_BYTES = 32;
/** A reading's text at most: sign, 15 digits, dot, `0.`. */
const MAX_NUMBER_BYTES = 20;

export interface IotTexts {
  deviceIds: readonly string[];
  /** Site of each device, by the same index. */
  sites: readonly string[];
}

export class IotJson {
  /** The record key of each device: its id. */
  readonly keys: Buffer[];
  /** `{"device_id":"lyon-th-0042","site":"plant-lyon","temp_c":`. */
  private readonly devices: Buffer[];
  /** The readings with their names between them, written before the record is: `21.37,"humidity":…,"signal_strength":-71`. */
  private readonly readings = Buffer.alloc(4 * MAX_NUMBER_BYTES + HUMIDITY.length + BATTERY.length + SIGNAL.length);
  /** `,"ts":"2026-12-06T07:00:00.000Z"}`: `tsLength` bytes. */
  private readonly ts = new Uint8Array(MAX_TS_BYTES + 10);
  private tsLength = 0;

  constructor(texts: IotTexts) {
    this.keys = texts.deviceIds.map((id) => asciiBytes(id));
    this.devices = texts.deviceIds.map((id, i) =>
      asciiBytes(`{"device_id":"${id}","site":"${texts.sites[i]!}","temp_c":`),
    );
  }

  /** The `ts` of the events written next (ISO, ASCII). */
  setTimestamp(ts: string): void {
    if (ts.length > MAX_TS_BYTES) throw new RangeError(`timestamp ${ts} is longer than ${MAX_TS_BYTES} characters`);
    const text = `,"ts":"${ts}"}`;
    for (let i = 0; i < text.length; i++) this.ts[i] = text.charCodeAt(i);
    this.tsLength = text.length;
  }

  /** Whether `write` takes these scaled readings (else the event goes through JSON.stringify). */
  static writable(tempC: number, humidity: number, battery: number, signalDbm: number): boolean {
    return (
      isWritableScaled(tempC) && isWritableScaled(humidity) && isWritableScaled(battery) && isWritableScaled(signalDbm)
    );
  }

  /**
   * Appends the record of device `device`'s reading, keyed by its id: each reading scaled by 10^its decimals
   * (IOT_DECIMALS) and rounded, `IotJson.writable`.
   */
  write(sink: RecordSink, device: number, tempC: number, humidity: number, battery: number, signalDbm: number): void {
    const readings = this.readings;
    let r = writeScaled(readings, 0, tempC, IOT_DECIMALS.tempC);
    r = writeBytes(readings, r, HUMIDITY);
    r = writeScaled(readings, r, humidity, IOT_DECIMALS.humidity);
    r = writeBytes(readings, r, BATTERY);
    r = writeScaled(readings, r, battery, IOT_DECIMALS.battery);
    r = writeBytes(readings, r, SIGNAL);
    r = writeScaled(readings, r, signalDbm, IOT_DECIMALS.signalDbm);
    const head = this.devices[device]!;
    const key = this.keys[device]!;
    let p = sink.reserve(key, 0, key.length, head.length + r + this.tsLength);
    const buf = sink.valueBuffer;
    p = writeBytes(buf, p, head);
    for (let i = 0; i < r; i++) buf[p++] = readings[i]!;
    const ts = this.ts;
    for (let i = 0; i < this.tsLength; i++) buf[p++] = ts[i]!;
  }
}
