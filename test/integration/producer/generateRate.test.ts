/**
 * Rate control: over every 10 s window inside a 25 s run, the real rate of each stream (counted
 * from the event times, `ts`, of what kcat reads back) is within 5% of the configured rate — at
 * config.yml's 120 / 60 per second and at 10,000 per second.
 */
import { describe, expect, it } from 'vitest';
import type { StreamName } from '../../../src/events/types.js';
import { consumeAndDecode, freshTopicsPerBlock } from '../helpers/producerFixtures.js';
import { runCli } from '../helpers/runCli.js';

const RUN_SECONDS = 25;
const WINDOW_MS = 10_000;
/** The first seconds hold thread start-up (the pacer's budget is issued in a burst once threads are ready). */
const SKIP_START_MS = 2_500;
const SKIP_END_MS = 1_000;
const STEP_MS = 500;

interface WindowRate {
  startMs: number;
  events: number;
  ratePerSecond: number;
}

/** Events per sliding 10 s window, by event time, over the windows fully inside the run. */
function windowRates(eventTimesMs: readonly number[]): WindowRate[] {
  const sorted = [...eventTimesMs].sort((a, b) => a - b);
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  const windows: WindowRate[] = [];
  for (let startMs = first + SKIP_START_MS; startMs + WINDOW_MS <= last - SKIP_END_MS; startMs += STEP_MS) {
    const events = sorted.filter((t) => t >= startMs && t < startMs + WINDOW_MS).length;
    windows.push({ startMs, events, ratePerSecond: (events * 1000) / WINDOW_MS });
  }
  return windows;
}

describe.each([
  { clickstream: 120, iot: 60 },
  { clickstream: 10_000, iot: 10_000 },
])('generate at clickstream $clickstream/s and IoT $iot/s', (rates) => {
  const freshTopics = freshTopicsPerBlock();

  it('holds each rate within 5% over every 10 s window', async () => {
    const fresh = await freshTopics();
    const { config } = fresh;
    const result = await runCli(
      [
        'generate',
        '--clickstream-rate',
        String(rates.clickstream),
        '--iot-rate',
        String(rates.iot),
        '--duration',
        String(RUN_SECONDS),
      ],
      fresh.env,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);

    const consumed = await consumeAndDecode(config);
    expect(consumed.invalid).toEqual([]);
    const times: Record<StreamName, number[]> = {
      clickstream: consumed.clickstream.map((r) => r.tsMs),
      iot: consumed.iot.map((r) => r.tsMs),
    };
    for (const stream of ['clickstream', 'iot'] as const) {
      const windows = windowRates(times[stream]);
      // 25 s run: windows from 2.5 s to about 14 s after the first event, every 0.5 s.
      expect(windows.length).toBeGreaterThanOrEqual(15);
      const off = windows.filter((w) => Math.abs(w.ratePerSecond - rates[stream]) > rates[stream] * 0.05);
      expect(off, `${stream}: windows off by more than 5% of ${rates[stream]}/s`).toEqual([]);
    }
  });
});
