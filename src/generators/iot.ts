import { formatIsoTimestamp } from '../events/isoTimestamp.js';
import type { IotEvent } from '../events/types.js';
import { IOT_DECIMALS, IotJson } from './iotJson.js';
import { assertJsonSafe } from './jsonSafe.js';
import { checkShard, owns, type Shard, WHOLE_POPULATION } from './ownership.js';
import { createRandom, type Seed } from './random.js';
import { type RecordSink, writeTextRecord } from './recordSink.js';

/**
 * Synthetic IoT readings: temperature/humidity sensors spread over sites, each device with its own
 * state so that consecutive readings of a device form smooth, plausible series. Pure and
 * deterministic under a seed.
 *
 * Several generators (one per producer thread) share one population: each device's traits and
 * starting state come from the population seed and its id alone, and each generator simulates only
 * the devices of its shard (ownership.ts), so one device is one walk whatever the thread count.
 */

export interface SiteProfile {
  /** Value of the `site` field. */
  name: string;
  /** Prefix of device ids (`lyon-th-0042`). */
  code: string;
  baselineTempC: number;
  baselineHumidity: number;
}

export const SITES: readonly SiteProfile[] = [
  { name: 'plant-lyon', code: 'lyon', baselineTempC: 22, baselineHumidity: 45 },
  { name: 'plant-grenoble', code: 'grenoble', baselineTempC: 20, baselineHumidity: 40 },
  { name: 'warehouse-lille', code: 'lille', baselineTempC: 14, baselineHumidity: 62 },
  { name: 'warehouse-nantes', code: 'nantes', baselineTempC: 15, baselineHumidity: 66 },
  { name: 'office-paris', code: 'paris', baselineTempC: 21.5, baselineHumidity: 42 },
  { name: 'coldstore-rennes', code: 'rennes', baselineTempC: 3, baselineHumidity: 85 },
  { name: 'datacenter-marseille', code: 'marseille', baselineTempC: 24, baselineHumidity: 35 },
  { name: 'greenhouse-bordeaux', code: 'bordeaux', baselineTempC: 26, baselineHumidity: 75 },
];

/** Physical limits of the simulated sensors; the validator's limits are wider. */
export const IOT_LIMITS = {
  tempC: { min: -20, max: 50 },
  humidity: { min: 5, max: 95 },
  battery: { min: 0, max: 100 },
  signalDbm: { min: -110, max: -40 },
} as const;

/**
 * Per-reading dynamics: an Ornstein-Uhlenbeck-like walk, x += reversion * (baseline - x) + noise,
 * with each step clamped so that one reading never jumps (no sensor glitches here on purpose:
 * glitches are the validator's business, injected by tests).
 */
const TEMP = { reversion: 0.02, sigma: 0.08, maxStep: 0.5 };
const HUMIDITY = { reversion: 0.02, sigma: 0.25, maxStep: 1.5 };
const SIGNAL = { reversion: 0.05, sigma: 1.2, maxStep: 4 };

/** The most one reading moves from the device's previous one (before rounding to the event's decimals). */
export const IOT_MAX_STEP = {
  tempC: TEMP.maxStep,
  humidity: HUMIDITY.maxStep,
  signalDbm: SIGNAL.maxStep,
} as const;
const DEFAULT_DRAIN = { min: 0.0005, max: 0.003 };
/** Battery percentage points a reading loses at most with the default drain. */
export const IOT_MAX_DRAIN_PER_READING = DEFAULT_DRAIN.max;

/** Numbers per device in a shared state table (see `IotGeneratorOptions.state`). */
export const IOT_STATE_FIELDS = 5;
const F_TEMP = 0;
const F_HUMIDITY = 1;
const F_BATTERY = 2;
const F_DRAIN = 3;
const F_SIGNAL = 4;

/** Length of the state table of a population (`new Float64Array(...)`, filled with NaN). */
export function iotStateTableLength(sites = SITES.length, devicesPerSite = 64): number {
  return sites * devicesPerSite * IOT_STATE_FIELDS;
}

export interface IotGeneratorOptions {
  /** Seeds the walks of the devices this generator simulates. */
  seed: Seed;
  /** Seeds each device's traits and starting state (with its id). Default `seed`. */
  populationSeed?: Seed;
  /** The devices this generator simulates (ownership.ts). Default all. */
  shard?: Shard;
  /**
   * Where the devices' moving state lives, `iotStateTableLength()` numbers, NaN for a device never
   * simulated yet: a generator that takes over a shard (a thread replacing a dead one) continues
   * each device from its last reading instead of restarting it. Default: a private table.
   */
  state?: Float64Array;
  /** Number of sites; the first 8 are named (`plant-lyon`...), further ones `site-09`... Default 8. */
  sites?: number;
  /** Default 64. */
  devicesPerSite?: number;
  /** Battery percentage points lost per reading, drawn per device in [min, max]. Default 0.0005..0.003. */
  batteryDrainPerReading?: { min: number; max: number };
  /** Chance, at each reading of a flat device, that someone swaps its battery (back to 100). Default 0.02. */
  batteryReplaceProbability?: number;
}

export interface IotGenerator {
  /** A reading of a randomly chosen device of the shard, stamped with `nowMs` as its event time. */
  next(nowMs: number): IotEvent;
  /**
   * The next reading, the same as `next` would have made, appended to `sink` as its record: keyed by its device id,
   * its value the bytes of `JSON.stringify(event)` (iotJson.ts).
   */
  writeNext(nowMs: number, sink: RecordSink): void;
  /** `JSON.stringify(event)` for an event this generator made, without its escaping pass (jsonSafe.ts). */
  toJson(event: IotEvent): string;
  nextBatch(count: number, nowMs: number): IotEvent[];
  /** The devices this generator simulates (its shard of the population). */
  readonly deviceIds: readonly string[];
  readonly siteNames: readonly string[];
}

interface DeviceState {
  deviceId: string;
  /** Offset of this device's row in the state table. */
  row: number;
  site: string;
  baselineTempC: number;
  tempC: number;
  baselineHumidity: number;
  humidity: number;
  battery: number;
  drainPerReading: number;
  baselineSignalDbm: number;
  signalDbm: number;
}

function clamp(value: number, min: number, max: number): number {
  return value < min ? min : Math.min(value, max);
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

function siteProfile(index: number): SiteProfile {
  const named = SITES[index];
  if (named !== undefined) return named;
  const code = `s${String(index + 1).padStart(2, '0')}`;
  return { name: `site-${String(index + 1).padStart(2, '0')}`, code, baselineTempC: 19, baselineHumidity: 50 };
}

/**
 * Longer than ~80 lines: one closure over the devices' state, whose `step` is the one place a reading is drawn (`next`
 * and `writeNext` only render it), so both give the same readings for the same seed.
 */
export function createIotGenerator(options: IotGeneratorOptions): IotGenerator {
  const siteCount = options.sites ?? SITES.length;
  const devicesPerSite = options.devicesPerSite ?? 64;
  const drain = options.batteryDrainPerReading ?? DEFAULT_DRAIN;
  const replaceProbability = options.batteryReplaceProbability ?? 0.02;
  if (!Number.isInteger(siteCount) || siteCount < 1)
    throw new RangeError(`sites must be a positive integer, got ${siteCount}`);
  if (!Number.isInteger(devicesPerSite) || devicesPerSite < 1 || devicesPerSite > 9999) {
    throw new RangeError(`devicesPerSite must be an integer in [1, 9999], got ${devicesPerSite}`);
  }
  if (!(drain.min >= 0 && drain.max >= drain.min)) throw new RangeError('batteryDrainPerReading needs 0 <= min <= max');

  const shard = options.shard ?? WHOLE_POPULATION;
  checkShard(shard);
  const populationSeed = String(options.populationSeed ?? options.seed);
  const state = options.state ?? new Float64Array(iotStateTableLength(siteCount, devicesPerSite)).fill(Number.NaN);
  if (state.length < iotStateTableLength(siteCount, devicesPerSite))
    throw new RangeError(`state needs ${iotStateTableLength(siteCount, devicesPerSite)} numbers, got ${state.length}`);

  const random = createRandom(options.seed);
  const devices: DeviceState[] = [];
  const siteNames: string[] = [];
  for (let s = 0; s < siteCount; s++) {
    const site = siteProfile(s);
    siteNames.push(site.name);
    for (let d = 0; d < devicesPerSite; d++) {
      // Numbered site by site: `grenoble-th-0003` is device 64 + 3 (ownership.ts).
      if (!owns(shard, s * devicesPerSite + d)) continue;
      const deviceId = `${site.code}-th-${String(d).padStart(4, '0')}`;
      // Traits from the population seed and the id only: the same device whatever its thread.
      const traits = createRandom(`iot ${populationSeed} ${deviceId}`);
      // Devices differ from their site: near a door, a window, a machine.
      const baselineTempC = clamp(
        site.baselineTempC + traits.gaussian() * 1.5,
        IOT_LIMITS.tempC.min + 2,
        IOT_LIMITS.tempC.max - 2,
      );
      const baselineHumidity = clamp(
        site.baselineHumidity + traits.gaussian() * 5,
        IOT_LIMITS.humidity.min + 5,
        IOT_LIMITS.humidity.max - 5,
      );
      const baselineSignalDbm = traits.float(-95, -55);
      const row = (s * devicesPerSite + d) * IOT_STATE_FIELDS;
      const device: DeviceState = {
        deviceId,
        row,
        site: site.name,
        baselineTempC,
        tempC: baselineTempC + traits.gaussian() * 0.5,
        baselineHumidity,
        humidity: baselineHumidity + traits.gaussian() * 2,
        battery: traits.float(15, 100),
        drainPerReading: traits.float(drain.min, drain.max),
        baselineSignalDbm,
        signalDbm: baselineSignalDbm + traits.gaussian() * 3,
      };
      if (Number.isNaN(state[row + F_BATTERY]!)) save(device);
      else {
        // Simulated before (by a thread that died): continue from its last reading.
        device.tempC = state[row + F_TEMP]!;
        device.humidity = state[row + F_HUMIDITY]!;
        device.battery = state[row + F_BATTERY]!;
        device.drainPerReading = state[row + F_DRAIN]!;
        device.signalDbm = state[row + F_SIGNAL]!;
      }
      devices.push(device);
    }
  }
  if (devices.length === 0)
    throw new RangeError(
      `shard ${shard.index} of ${shard.count} owns none of the ${siteCount * devicesPerSite} devices`,
    );

  // toJson writes ids and site names as they are.
  assertJsonSafe([...siteNames, ...devices.map((device) => device.deviceId)], 'IoT string');

  function save(device: DeviceState): void {
    const row = device.row;
    state[row + F_TEMP] = device.tempC;
    state[row + F_HUMIDITY] = device.humidity;
    state[row + F_BATTERY] = device.battery;
    state[row + F_DRAIN] = device.drainPerReading;
    state[row + F_SIGNAL] = device.signalDbm;
  }

  function walk(
    value: number,
    baseline: number,
    params: { reversion: number; sigma: number; maxStep: number },
  ): number {
    const step = params.reversion * (baseline - value) + params.sigma * random.gaussian();
    return value + clamp(step, -params.maxStep, params.maxStep);
  }

  let lastNowMs = Number.NaN;
  let lastTs = '';
  const json = new IotJson({
    deviceIds: devices.map((device) => device.deviceId),
    sites: devices.map((device) => device.site),
  });

  /** The next reading, its device's state moved on: the index of the device in `devices`. */
  function step(nowMs: number): number {
    if (nowMs !== lastNowMs) {
      lastTs = formatIsoTimestamp(nowMs);
      json.setTimestamp(lastTs);
      lastNowMs = nowMs;
    }
    const index = Math.floor(random.next() * devices.length);
    const device = devices[index]!;
    device.tempC = clamp(walk(device.tempC, device.baselineTempC, TEMP), IOT_LIMITS.tempC.min, IOT_LIMITS.tempC.max);
    device.humidity = clamp(
      walk(device.humidity, device.baselineHumidity, HUMIDITY),
      IOT_LIMITS.humidity.min,
      IOT_LIMITS.humidity.max,
    );
    device.signalDbm = clamp(
      walk(device.signalDbm, device.baselineSignalDbm, SIGNAL),
      IOT_LIMITS.signalDbm.min,
      IOT_LIMITS.signalDbm.max,
    );
    if (device.battery <= 0) {
      // A flat device reports 0 until someone replaces its battery.
      if (random.next() < replaceProbability) {
        device.battery = IOT_LIMITS.battery.max;
        device.drainPerReading = random.float(drain.min, drain.max);
      }
    } else {
      device.battery = Math.max(0, device.battery - device.drainPerReading);
    }
    save(device);
    return index;
  }

  function eventOf(device: DeviceState): IotEvent {
    return {
      device_id: device.deviceId,
      site: device.site,
      temp_c: round(device.tempC, IOT_DECIMALS.tempC),
      humidity: round(device.humidity, IOT_DECIMALS.humidity),
      battery: round(device.battery, IOT_DECIMALS.battery),
      signal_strength: Math.round(device.signalDbm),
      ts: lastTs,
    };
  }

  function next(nowMs: number): IotEvent {
    return eventOf(devices[step(nowMs)]!);
  }

  function writeNext(nowMs: number, sink: RecordSink): void {
    const index = step(nowMs);
    const device = devices[index]!;
    // round(x, d) is scaled / 10^d: its JSON is the scaled integer's digits with a dot (asciiJson.ts).
    const tempC = Math.round(device.tempC * 10 ** IOT_DECIMALS.tempC);
    const humidity = Math.round(device.humidity * 10 ** IOT_DECIMALS.humidity);
    const battery = Math.round(device.battery * 10 ** IOT_DECIMALS.battery);
    const signalDbm = Math.round(device.signalDbm);
    if (IotJson.writable(tempC, humidity, battery, signalDbm))
      json.write(sink, index, tempC, humidity, battery, signalDbm);
    else writeTextRecord(sink, json.keys[index]!, JSON.stringify(eventOf(device)));
  }

  return {
    next,
    writeNext,
    toJson(e: IotEvent): string {
      // A number prints as JSON prints it when finite (JSON writes null for the others); timestamps are ISO.
      if (
        typeof e.ts !== 'string' ||
        !Number.isFinite(e.temp_c) ||
        !Number.isFinite(e.humidity) ||
        !Number.isFinite(e.battery) ||
        !Number.isFinite(e.signal_strength)
      )
        return JSON.stringify(e);
      return `{"device_id":"${e.device_id}","site":"${e.site}","temp_c":${e.temp_c},"humidity":${e.humidity},"battery":${e.battery},"signal_strength":${e.signal_strength},"ts":"${e.ts}"}`;
    },
    nextBatch(count: number, nowMs: number): IotEvent[] {
      const batch = new Array<IotEvent>(count);
      for (let i = 0; i < count; i++) batch[i] = next(nowMs);
      return batch;
    },
    deviceIds: devices.map((device) => device.deviceId),
    siteNames,
  };
}
