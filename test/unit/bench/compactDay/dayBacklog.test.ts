import { describe, expect, it } from 'vitest';
import { DAY_MS, dayBacklogLines, dayTimestamp } from '../../../../bench/compactDay/dayBacklog.js';

const DAY = Date.UTC(2026, 11, 4);

describe('dayTimestamp', () => {
  it('spreads the events evenly over the day, in order, none outside it', () => {
    const count = 10_368;
    const times = Array.from({ length: count }, (_, i) => dayTimestamp(i, count, DAY));
    expect(times[0]).toBe(DAY);
    expect(times.at(-1)).toBeLessThan(DAY + DAY_MS);
    for (let i = 1; i < count; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
    // 120 events/s over 86,400 s at scale 0.001: one event every 8,333 ms, so 7.2 an hour.
    expect(times.filter((t) => t < DAY + 3_600_000)).toHaveLength(432);
  });
});

describe('dayBacklogLines', () => {
  it('keys each generator event as the producer does, its ts the day spread', () => {
    const lines = [...dayBacklogLines({ stream: 'iot', count: 4, seed: 1, dayStartMs: DAY, batchMessages: 1 })];
    expect(lines).toHaveLength(4);
    lines.forEach((line, i) => {
      const [key, json] = line.split('\t');
      const event = JSON.parse(json!) as { device_id: string; ts: string };
      expect(key).toBe(event.device_id);
      expect(Date.parse(event.ts)).toBe(DAY + i * (DAY_MS / 4));
    });
    const click = [...dayBacklogLines({ stream: 'clickstream', count: 2, seed: 1, dayStartMs: DAY, batchMessages: 1 })];
    expect(JSON.parse(click[1]!.split('\t')[1]!).user_id).toBe(click[1]!.split('\t')[0]);
  });
});
