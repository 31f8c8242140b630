import { describe, expect, it } from 'vitest';
import { StreamMetrics } from '../../../src/producer/streamMetrics.js';

const T0 = 1_700_000_000_000;

describe('StreamMetrics', () => {
  it('starts empty', () => {
    const m = new StreamMetrics('iot', T0);
    expect(m.current()).toEqual({
      stream: 'iot',
      total: 0,
      errors: 0,
      eventsPerSecond: 0,
      bytesTotal: 0,
      transactions: 0,
      eventsPerTransaction: null,
      ackLatencyMsP50: null,
      ackLatencyMsP99: null,
      intervalMs: 1,
    });
    expect(m.acknowledgedTotal).toBe(0);
  });

  it('rates and percentiles cover the interval just closed; totals cover everything since start', () => {
    const m = new StreamMetrics('clickstream', T0);
    m.recordAck(50, 5_000, 12);
    m.recordAck(50, 5_000, 3);
    m.recordAck(100, 10_000, 7);
    m.recordError();
    expect(m.roll(T0 + 2_000)).toEqual({
      stream: 'clickstream',
      total: 200,
      errors: 1,
      eventsPerSecond: 100,
      bytesTotal: 20_000,
      transactions: 3,
      eventsPerTransaction: 200 / 3,
      ackLatencyMsP50: 7,
      ackLatencyMsP99: 12,
      intervalMs: 2_000,
    });

    m.recordAck(10, 1_000, 100);
    expect(m.roll(T0 + 7_000)).toEqual({
      stream: 'clickstream',
      total: 210,
      errors: 1,
      eventsPerSecond: 2,
      bytesTotal: 21_000,
      transactions: 4,
      eventsPerTransaction: 10,
      ackLatencyMsP50: 100,
      ackLatencyMsP99: 100,
      intervalMs: 5_000,
    });

    // An interval without acks: no rate, no latency, totals kept.
    expect(m.roll(T0 + 8_000)).toMatchObject({
      total: 210,
      errors: 1,
      eventsPerSecond: 0,
      ackLatencyMsP50: null,
      ackLatencyMsP99: null,
      intervalMs: 1_000,
    });
    expect(m.acknowledgedTotal).toBe(210);
  });

  it("current() keeps the last interval's figures with totals as of now", () => {
    const m = new StreamMetrics('iot', T0);
    m.recordAck(30, 300, 4);
    m.roll(T0 + 1_000);
    m.recordAck(5, 50, 900);
    m.recordError();
    expect(m.current()).toMatchObject({
      total: 35,
      bytesTotal: 350,
      errors: 1,
      eventsPerSecond: 30,
      ackLatencyMsP50: 4,
      ackLatencyMsP99: 4,
      intervalMs: 1_000,
    });
  });

  it('rounds the rate and never divides by a zero-length interval', () => {
    const m = new StreamMetrics('iot', T0);
    m.recordAck(1, 10, 1);
    expect(m.roll(T0 + 3_000).eventsPerSecond).toBe(0); // 0.33/s
    m.recordAck(2, 10, 1);
    expect(m.roll(T0 + 4_000).eventsPerSecond).toBe(2);
    m.recordAck(5, 10, 1);
    expect(m.roll(T0 + 4_000)).toMatchObject({ intervalMs: 1, eventsPerSecond: 5_000 });
  });

  it('p99 is the slowest of fewer than a hundred acks and the 99th of many', () => {
    const m = new StreamMetrics('clickstream', T0);
    for (let i = 1; i <= 1_000; i++) m.recordAck(1, 1, 1_001 - i); // latencies 1000..1, unsorted
    expect(m.roll(T0 + 1_000)).toMatchObject({ ackLatencyMsP50: 500, ackLatencyMsP99: 990 });
  });
});
