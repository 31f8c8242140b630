import { describe, expect, it } from 'vitest';
import { backlogLines, backlogTimestamp } from '../../../../bench/scaleOut/backlog.js';
import { mulberry32 } from '../../../../src/system/mulberry32.js';

const END = Date.UTC(2026, 11, 5, 12, 0, 0);

describe('backlogTimestamp', () => {
  it('is out of order, mostly within 30 s, some late by minutes, none more than 2 s ahead of the end', () => {
    const random = mulberry32(7);
    const times = Array.from({ length: 20_000 }, (_, i) => backlogTimestamp(random, i, 20_000, END, 600_000));
    let inversions = 0;
    for (let i = 1; i < times.length; i++) if (times[i]! < times[i - 1]!) inversions += 1;
    expect(inversions).toBeGreaterThan(5_000);
    expect(Math.max(...times)).toBeLessThanOrEqual(END + 2_000);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(END - 600_000 - 600_000);
    const late = times.filter((t, i) => t < END - 600_000 + (i * 600_000) / 20_000 - 30_000).length;
    expect(late).toBeGreaterThan(50);
    expect(late).toBeLessThan(400);
  });
});

describe('backlogLines', () => {
  it('yields the generators’ events keyed as the producer keys them, the same for the same seed', () => {
    const options = { stream: 'clickstream' as const, count: 50, seed: 3, endMs: END, spanMs: 60_000 };
    const lines = [...backlogLines(options)];
    expect(lines).toHaveLength(50);
    expect([...backlogLines(options)]).toEqual(lines);
    for (const line of lines) {
      const [key, value] = line.split('\t');
      const event = JSON.parse(value!) as { user_id: string; event_id: string; ts: string };
      expect(key).toBe(event.user_id);
      expect(Date.parse(event.ts)).toBeLessThanOrEqual(END + 2_000);
    }
    expect(new Set(lines.map((l) => JSON.parse(l.split('\t')[1]!).event_id)).size).toBe(50);
    const iot = [...backlogLines({ ...options, stream: 'iot' })];
    for (const line of iot) expect(line.split('\t')[0]).toBe(JSON.parse(line.split('\t')[1]!).device_id);
  });
});
