import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../../src/events/validate.js';
import type { IotEvent } from '../../../src/events/types.js';
import { createIotGenerator, IOT_STATE_FIELDS, iotStateTableLength, SITES } from '../../../src/generators/iot.js';
import { CapturingSink } from './capturingSink.js';

const NOW_MS = Date.UTC(2024, 4, 1, 12, 0, 0);
const COUNT = 50_000;

function generate(seed: number, count: number): IotEvent[] {
  const generator = createIotGenerator({ seed });
  return Array.from({ length: count }, (_, i) => generator.next(NOW_MS + i));
}

const events = generate(1, COUNT);

/** Fills a state table with readings around 0 for every device (a battery about to be flat): edge cases of JSON numbers. */
function nearZeroTable(state: Float64Array): Float64Array {
  for (let row = 0; row < state.length; row += IOT_STATE_FIELDS) {
    const device = row / IOT_STATE_FIELDS;
    state[row] = ((device % 41) - 20) / 100; // temperature, °C: -0.2 to 0.2
    state[row + 1] = 5 + (device % 13) / 100; // humidity, at its lower limit
    state[row + 2] = (device % 7) / 1000; // battery, %
    state[row + 3] = 0.002; // drain per reading
    state[row + 4] = -40 - (device % 3) / 2; // signal, dBm
  }
  return state;
}

function byDevice(list: readonly IotEvent[]): Map<string, IotEvent[]> {
  const series = new Map<string, IotEvent[]>();
  for (const event of list) {
    const readings = series.get(event.device_id);
    if (readings === undefined) series.set(event.device_id, [event]);
    else readings.push(event);
  }
  return series;
}

function decimals(value: number): number {
  const text = String(value);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

describe('iot generator', () => {
  it('produces events that all pass the ETL decoder, with the values intact', () => {
    const opts = { maxEventBytes: 64 * 1024, maxFutureSkewMs: 3_600_000, recordTimestampMs: NOW_MS };
    const problems: string[] = [];
    for (const [i, event] of events.entries()) {
      const result = decodeEvent('iot', Buffer.from(JSON.stringify(event)), opts);
      if (!result.ok) problems.push(`event ${i} rejected: ${result.reason} ${result.detail}`);
      else if (
        result.row.temp_c !== event.temp_c ||
        result.row.battery !== event.battery ||
        result.row.tsMs !== NOW_MS + i
      ) {
        problems.push(`event ${i} altered: ${JSON.stringify(result.row)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("writes its events' JSON as JSON.stringify does, for every event of several seeds and shards", () => {
    for (const [seed, shard] of [
      [1, undefined],
      [2, { index: 1, count: 3 }],
    ] as const) {
      const generator = createIotGenerator({ seed, ...(shard ? { shard } : {}) });
      for (let i = 0; i < 20_000; i++) {
        const event = generator.next(NOW_MS + i);
        const json = generator.toJson(event);
        if (json !== JSON.stringify(event)) expect(json).toBe(JSON.stringify(event));
      }
    }
    // Shapes it never makes, written by JSON.stringify (which writes null for a number that is not finite).
    const generator = createIotGenerator({ seed: 1 });
    const event = generator.next(NOW_MS);
    for (const odd of [
      { ...event, ts: NOW_MS },
      { ...event, temp_c: Number.NaN },
      { ...event, battery: Infinity },
    ])
      expect(generator.toJson(odd)).toBe(JSON.stringify(odd));
    expect(generator.toJson({ ...event, signal_strength: -0 })).toBe(JSON.stringify({ ...event, signal_strength: -0 }));
  });

  it('writes the records of the readings next() would make: keyed by device id, the bytes of JSON.stringify', () => {
    // Readings near 0 (negative, -0, one decimal digit), flat and replaced batteries, a reading that is not finite.
    const nearZero = nearZeroTable(new Float64Array(iotStateTableLength()));
    const notFinite = new Float64Array(iotStateTableLength()).fill(Number.NaN);
    createIotGenerator({ seed: 4, state: notFinite });
    notFinite[IOT_STATE_FIELDS * 5] = Number.NaN; // device 5's temperature; its battery stays a number
    notFinite[IOT_STATE_FIELDS * 5 + 2] = 50;
    const cases = [
      { seed: 1 },
      { seed: 2, shard: { index: 1, count: 3 } },
      { seed: 3, batteryDrainPerReading: { min: 5, max: 40 } },
      { seed: 4, state: nearZero },
      { seed: 4, state: notFinite },
    ];
    let nulls = 0;
    for (const options of cases) {
      // Each its own copy of the state table: the same devices, walked twice.
      const generator = () =>
        createIotGenerator({ ...options, ...(options.state ? { state: Float64Array.from(options.state) } : {}) });
      const made = generator();
      const written = generator();
      const sink = new CapturingSink();
      const expected: Array<{ key: string; value: string }> = [];
      for (let i = 0; i < 20_000; i++) {
        const nowMs = NOW_MS + Math.floor(i / 3);
        const event = made.next(nowMs);
        expected.push({ key: event.device_id, value: JSON.stringify(event) });
        written.writeNext(nowMs, sink);
      }
      const records = sink.take();
      const firstDifferent = records.findIndex((r, i) => r.key !== expected[i]!.key || r.value !== expected[i]!.value);
      expect(firstDifferent === -1 ? undefined : [records[firstDifferent], expected[firstDifferent]]).toBeUndefined();
      expect(records).toHaveLength(expected.length);
      nulls += records.filter((r) => r.value.includes('null')).length;
    }
    expect(nulls).toBeGreaterThan(0);
  });

  it('covers 8 named sites of 64 devices each, with ids like lyon-th-0042', () => {
    const generator = createIotGenerator({ seed: 1 });
    expect(generator.siteNames).toEqual(SITES.map((site) => site.name));
    expect(generator.siteNames).toContain('plant-lyon');
    expect(generator.deviceIds).toHaveLength(8 * 64);
    expect(generator.deviceIds).toContain('lyon-th-0042');
    expect(new Set(events.map((e) => e.site)).size).toBe(8);
    expect(new Set(events.map((e) => e.device_id)).size).toBe(8 * 64);
    const codeBySite = new Map(SITES.map((site) => [site.name, site.code]));
    const misnamed = events.filter(
      (event) => !new RegExp(`^${codeBySite.get(event.site) ?? 'unknown site'}-th-\\d{4}$`).test(event.device_id),
    );
    expect(misnamed).toEqual([]);
    const more = createIotGenerator({ seed: 1, sites: 10, devicesPerSite: 3 });
    expect(more.siteNames).toHaveLength(10);
    expect(more.siteNames[9]).toBe('site-10');
    expect(more.deviceIds).toHaveLength(30);
  });

  it('is deterministic under a seed and differs between seeds', () => {
    expect(generate(5, 2000)).toEqual(generate(5, 2000));
    expect(generate(6, 2000)).not.toEqual(generate(5, 2000));
    const a = createIotGenerator({ seed: 5 });
    const b = createIotGenerator({ seed: 5 });
    expect(a.nextBatch(20, NOW_MS)).toEqual(Array.from({ length: 20 }, () => b.next(NOW_MS)));
  });

  it('keeps every value in its plausible range, rounded sensibly', () => {
    const outOfRange = events.filter(
      (e) =>
        !(e.temp_c >= -20 && e.temp_c <= 50 && decimals(e.temp_c) <= 2) ||
        !(e.humidity >= 5 && e.humidity <= 95 && decimals(e.humidity) <= 1) ||
        !(e.battery >= 0 && e.battery <= 100 && decimals(e.battery) <= 2) ||
        !(Number.isInteger(e.signal_strength) && e.signal_strength >= -110 && e.signal_strength <= -40),
    );
    expect(outOfRange).toEqual([]);
    // The walks spread over their ranges rather than sitting on one value.
    expect(new Set(events.map((e) => e.signal_strength)).size).toBeGreaterThan(20);
    expect(Math.max(...events.map((e) => e.temp_c)) - Math.min(...events.map((e) => e.temp_c))).toBeGreaterThan(15);
  });

  it('gives each site its own climate: indoor office ~21 °C, cold store a few degrees', () => {
    const meanTemp = (site: string): number => {
      const temps = events.filter((e) => e.site === site).map((e) => e.temp_c);
      return temps.reduce((s, t) => s + t, 0) / temps.length;
    };
    expect(meanTemp('office-paris')).toBeGreaterThan(18);
    expect(meanTemp('office-paris')).toBeLessThan(25);
    expect(meanTemp('coldstore-rennes')).toBeLessThan(8);
  });

  it('walks smoothly: consecutive readings of a device differ by less than 1 °C, 3 % humidity, 10 dBm', () => {
    let pairs = 0;
    let totalTempDelta = 0;
    let maxTempDelta = 0;
    let maxHumidityDelta = 0;
    let maxSignalDelta = 0;
    for (const readings of byDevice(events).values()) {
      for (let i = 1; i < readings.length; i++) {
        const previous = readings[i - 1]!;
        const current = readings[i]!;
        const tempDelta = Math.abs(current.temp_c - previous.temp_c);
        maxTempDelta = Math.max(maxTempDelta, tempDelta);
        maxHumidityDelta = Math.max(maxHumidityDelta, Math.abs(current.humidity - previous.humidity));
        maxSignalDelta = Math.max(maxSignalDelta, Math.abs(current.signal_strength - previous.signal_strength));
        totalTempDelta += tempDelta;
        pairs++;
      }
    }
    expect(maxTempDelta).toBeLessThan(1.0);
    expect(maxHumidityDelta).toBeLessThan(3);
    expect(maxSignalDelta).toBeLessThan(10);
    // Smooth, yet alive: the values do move.
    expect(totalTempDelta / pairs).toBeGreaterThan(0.01);
    expect(pairs).toBeGreaterThan(COUNT - 8 * 64 - 1);
  });

  it('drains batteries: non-increasing per device except a replacement back to 100', () => {
    // A fast drain so that devices go flat and get replaced within the test.
    const generator = createIotGenerator({
      seed: 2,
      sites: 2,
      devicesPerSite: 4,
      batteryDrainPerReading: { min: 0.5, max: 1 },
      batteryReplaceProbability: 0.1,
    });
    const readings = Array.from({ length: 20_000 }, (_, i) => generator.next(NOW_MS + i));
    let replacements = 0;
    let flatReadings = 0;
    let negatives = 0;
    const badIncreases: string[] = [];
    for (const series of byDevice(readings).values()) {
      for (let i = 1; i < series.length; i++) {
        const previous = series[i - 1]!.battery;
        const current = series[i]!.battery;
        if (current < 0) negatives++;
        if (current > previous) {
          if (previous !== 0 || current !== 100) badIncreases.push(`${previous} -> ${current}`);
          replacements++;
        }
        if (current === 0) flatReadings++;
      }
    }
    expect(negatives).toBe(0);
    expect(badIncreases).toEqual([]);
    expect(replacements).toBeGreaterThan(0);
    expect(flatReadings).toBeGreaterThan(0);

    // With the default drain, a run of 50k readings only drains a little.
    let increases = 0;
    for (const series of byDevice(events).values()) {
      for (let i = 1; i < series.length; i++) if (series[i]!.battery > series[i - 1]!.battery) increases++;
    }
    expect(increases).toBe(0);
  });

  it('splits the 512 devices between shards, each device with the same traits whatever the shard count', () => {
    const whole = new Float64Array(iotStateTableLength()).fill(Number.NaN);
    const all = createIotGenerator({ seed: 9, populationSeed: 77, state: whole });
    const split = new Float64Array(iotStateTableLength()).fill(Number.NaN);
    const shards = Array.from({ length: 3 }, (_, index) =>
      createIotGenerator({ seed: 100 + index, populationSeed: 77, shard: { index, count: 3 }, state: split }),
    );
    const ids = shards.flatMap((g) => g.deviceIds);
    expect(ids).toHaveLength(8 * 64);
    expect(new Set(ids)).toEqual(new Set(all.deviceIds));
    // Starting state (temperature, humidity, battery, drain, signal) from the population seed and the id only.
    expect([...split]).toEqual([...whole]);
    // A shard's readings are of its own devices only.
    const own = new Set(shards[1]!.deviceIds);
    expect(shards[1]!.nextBatch(2000, NOW_MS).filter((e) => !own.has(e.device_id))).toEqual([]);
    // Another population seed: other devices.
    const other = new Float64Array(iotStateTableLength()).fill(Number.NaN);
    createIotGenerator({ seed: 9, populationSeed: 78, state: other });
    expect([...other]).not.toEqual([...whole]);
  });

  it('continues each device from the shared state table: a generator taking over a shard does not restart it', () => {
    const state = new Float64Array(iotStateTableLength()).fill(Number.NaN);
    const shard = { index: 2, count: 4 };
    const first = createIotGenerator({ seed: 1, populationSeed: 5, shard, state });
    const last = new Map<string, IotEvent>();
    for (const event of first.nextBatch(20_000, NOW_MS)) last.set(event.device_id, event);
    const replacement = createIotGenerator({ seed: 2, populationSeed: 5, shard, state });
    expect(replacement.deviceIds).toEqual(first.deviceIds);
    const problems: string[] = [];
    for (const event of replacement.nextBatch(20_000, NOW_MS + 1)) {
      const previous = last.get(event.device_id);
      if (previous && (event.battery > previous.battery || Math.abs(event.temp_c - previous.temp_c) > 0.51))
        problems.push(`${event.device_id}: ${JSON.stringify(previous)} -> ${JSON.stringify(event)}`);
      last.set(event.device_id, event);
    }
    expect(problems).toEqual([]);
    expect(state.length).toBe(8 * 64 * IOT_STATE_FIELDS);
  });

  it('rejects nonsensical options', () => {
    expect(() => createIotGenerator({ seed: 1, shard: { index: 4, count: 4 } })).toThrow(RangeError);
    expect(() => createIotGenerator({ seed: 1, state: new Float64Array(10) })).toThrow(RangeError);
    expect(() => createIotGenerator({ seed: 1, sites: 0 })).toThrow(RangeError);
    expect(() => createIotGenerator({ seed: 1, devicesPerSite: 0 })).toThrow(RangeError);
    expect(() => createIotGenerator({ seed: 1, batteryDrainPerReading: { min: 2, max: 1 } })).toThrow(RangeError);
  });
});
