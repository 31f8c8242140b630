/**
 * One owner per identity: with 4 producer threads, every device's readings, read back by kcat in
 * partition-offset order, are one continuous walk (the battery never rises except when a flat
 * battery is swapped for a full one, each value moves at most by the walk's bound, event times
 * rise), and every user's events are one sequence of sessions (a page view continues the user's
 * current session, chained by referrer, and no two sessions of a user overlap in time) — at a paced
 * rate and at an unlimited one.
 */
import { describe, expect, it } from 'vitest';
import { SHOP_ORIGIN } from '../../../src/generators/clickstream.js';
import { IOT_MAX_DRAIN_PER_READING, IOT_MAX_STEP } from '../../../src/generators/iot.js';
import { type ConsumedMessage, consumeAndDecode, freshTopicsPerBlock } from '../helpers/producerFixtures.js';
import { runCli } from '../helpers/runCli.js';

const THREADS = 4;
/**
 * Values are rounded on the wire (temp 2 decimals, humidity 1, signal 0, battery 2): a step may look larger by one
 * unit.
 */
const BOUND = {
  tempC: IOT_MAX_STEP.tempC + 0.01 + 1e-9,
  humidity: IOT_MAX_STEP.humidity + 0.1 + 1e-9,
  signalDbm: IOT_MAX_STEP.signalDbm + 1,
  batteryDrop: IOT_MAX_DRAIN_PER_READING + 0.01 + 1e-9,
};

interface Reading {
  device_id: string;
  temp_c: number;
  humidity: number;
  battery: number;
  signal_strength: number;
  ts: string;
}

interface Click {
  user_id: string;
  url: string;
  referrer?: string | null;
  ua: string;
  ts: string;
}

/** Each key's messages in partition-offset order, with the partitions each key was seen on. */
function byKey<T>(messages: readonly ConsumedMessage[]): Map<string, { events: T[]; partitions: Set<number> }> {
  const sorted = [...messages].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const keys = new Map<string, { events: T[]; partitions: Set<number> }>();
  for (const m of sorted) {
    const key = m.key ?? '';
    let entry = keys.get(key);
    if (entry === undefined) keys.set(key, (entry = { events: [], partitions: new Set() }));
    entry.events.push(JSON.parse(m.payload ?? 'null') as T);
    entry.partitions.add(m.partition);
  }
  return keys;
}

interface DeviceCheck {
  steps: number;
  batteryRises: number;
  recharges: number;
  violations: string[];
}

function checkDevices(messages: readonly ConsumedMessage[]): DeviceCheck {
  const result: DeviceCheck = { steps: 0, batteryRises: 0, recharges: 0, violations: [] };
  for (const [device, { events, partitions }] of byKey<Reading>(messages)) {
    if (partitions.size !== 1) result.violations.push(`${device}: on partitions ${[...partitions].join(',')}`);
    for (let i = 1; i < events.length; i++) {
      const a = events[i - 1]!;
      const b = events[i]!;
      result.steps++;
      const problems: string[] = [];
      if (b.battery > a.battery) {
        if (a.battery === 0 && b.battery === 100) result.recharges++;
        else {
          result.batteryRises++;
          problems.push(`battery rises ${a.battery} -> ${b.battery}`);
        }
      } else if (a.battery - b.battery > BOUND.batteryDrop) problems.push(`battery drops ${a.battery} -> ${b.battery}`);
      if (Math.abs(b.temp_c - a.temp_c) > BOUND.tempC) problems.push(`temp ${a.temp_c} -> ${b.temp_c}`);
      if (Math.abs(b.humidity - a.humidity) > BOUND.humidity) problems.push(`humidity ${a.humidity} -> ${b.humidity}`);
      if (Math.abs(b.signal_strength - a.signal_strength) > BOUND.signalDbm)
        problems.push(`signal ${a.signal_strength} -> ${b.signal_strength}`);
      if (Date.parse(b.ts) < Date.parse(a.ts)) problems.push(`ts ${a.ts} -> ${b.ts}`);
      if (problems.length > 0) result.violations.push(`${device} reading ${i}: ${problems.join('; ')}`);
    }
  }
  return result;
}

interface UserCheck {
  users: number;
  sessions: number;
  violations: string[];
}

const isInternal = (referrer: string | null | undefined): boolean =>
  typeof referrer === 'string' && referrer.startsWith(`${SHOP_ORIGIN}/`);

/**
 * The events carry no session id: a session starts at a landing (a referrer from outside the shop)
 * and its page views follow it, each referred by the session's previous page or its landing page,
 * with the session's user agent. A view that does not continue the user's current session comes
 * from another session of that user running at the same time.
 */
function checkUsers(messages: readonly ConsumedMessage[]): UserCheck {
  const result: UserCheck = { users: 0, sessions: 0, violations: [] };
  for (const [user, { events, partitions }] of byKey<Click>(messages)) {
    result.users++;
    if (partitions.size !== 1) result.violations.push(`${user}: on partitions ${[...partitions].join(',')}`);
    let session: { landing: string; previous: string; ua: string; firstMs: number; lastMs: number } | undefined;
    let previousSessionEndMs = Number.NEGATIVE_INFINITY;
    for (const [i, event] of events.entries()) {
      const tsMs = Date.parse(event.ts);
      if (!isInternal(event.referrer)) {
        if (session !== undefined) previousSessionEndMs = session.lastMs;
        if (tsMs < previousSessionEndMs)
          result.violations.push(`${user} event ${i}: a session starts at ${event.ts}, before the previous one ended`);
        session = { landing: event.url, previous: event.url, ua: event.ua, firstMs: tsMs, lastMs: tsMs };
        result.sessions++;
        continue;
      }
      if (session === undefined) {
        result.violations.push(`${user} event ${i}: a page view with no session before it`);
        continue;
      }
      if ((event.referrer !== session.previous && event.referrer !== session.landing) || event.ua !== session.ua)
        result.violations.push(`${user} event ${i}: does not continue the session (another session interleaves)`);
      if (tsMs < session.lastMs) result.violations.push(`${user} event ${i}: ts goes back to ${event.ts}`);
      session.previous = event.url;
      session.lastMs = Math.max(session.lastMs, tsMs);
    }
  }
  return result;
}

describe.each([
  {
    name: 'paced, 1,000 + 1,000 events/s',
    args: ['--clickstream-rate', '1000', '--iot-rate', '1000', '--duration', '15'],
  },
  { name: 'unlimited rate', args: ['--clickstream-rate', '0', '--iot-rate', '0', '--count', '200000'] },
])(`generate with ${THREADS} threads, $name`, ({ args }) => {
  const freshTopics = freshTopicsPerBlock();

  it('gives every device one continuous walk and every user one sequence of sessions', async () => {
    const fresh = await freshTopics();
    const result = await runCli(['generate', ...args], {
      ...fresh.env,
      SDP_DATA_GENERATOR__THREADS: String(THREADS),
      SDP_DATA_GENERATOR__SEED: '42',
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const threadsLine = result.stdout.split('\n').find((line) => line.includes('producer pool started'));
    expect(threadsLine, 'the pool start line').toContain(`"threads":${THREADS}`);

    const consumed = await consumeAndDecode(fresh.config);
    expect(consumed.invalid).toEqual([]);
    expect(consumed.wrongKeys).toBe(0);

    const devices = checkDevices(consumed.messages.iot);
    const users = checkUsers(consumed.messages.clickstream);
    const summary =
      `${devices.steps} device steps, battery rising in ${devices.batteryRises} ` +
      `(${((100 * devices.batteryRises) / Math.max(1, devices.steps)).toFixed(1)} %), ${devices.recharges} recharges; ` +
      `${users.users} users, ${users.sessions} sessions, ${users.violations.length} session violations`;
    // A run long enough to see every device many times.
    expect(devices.steps, summary).toBeGreaterThan(10_000);
    expect(users.sessions, summary).toBeGreaterThan(1_000);
    expect(devices.violations.slice(0, 10), summary).toEqual([]);
    expect(users.violations.slice(0, 10), summary).toEqual([]);
  });
});
