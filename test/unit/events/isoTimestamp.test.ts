import { describe, expect, it } from 'vitest';
import { formatIsoTimestamp, parseIsoTimestampMs } from '../../../src/events/isoTimestamp.js';
import { createRandom } from '../../../src/generators/random.js';

describe('parseIsoTimestampMs', () => {
  it('parses UTC and offset date-times to epoch ms', () => {
    expect(parseIsoTimestampMs('2024-05-01T12:00:00Z')).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parseIsoTimestampMs('2024-05-01T12:00:00.007Z')).toBe(Date.UTC(2024, 4, 1, 12, 0, 0, 7));
    expect(parseIsoTimestampMs('2024-05-01T12:00:00+02:00')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseIsoTimestampMs('2024-05-01T12:00:00-00:00')).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parseIsoTimestampMs('2024-12-31T23:30:00-01:00')).toBe(Date.UTC(2025, 0, 1, 0, 30));
    expect(parseIsoTimestampMs('0050-01-01T00:00:00Z')).toBe(new Date('0050-01-01T00:00:00Z').getTime());
  });

  it('returns NaN for anything that is not a strict date-time with timezone', () => {
    for (const text of [
      '',
      'yesterday',
      '2024-05-01',
      '2024-05-01T12:00:00',
      '2024-5-1T12:00:00Z',
      '+002024-05-01T12:00:00Z',
      '2024-05-01T12:00:00.1234567890Z',
      '2024-05-01T12:00:00+02',
      '2024-05-01T12:00:00 Z',
      '２０２４-05-01T12:00:00Z',
    ]) {
      expect(parseIsoTimestampMs(text), text).toBeNaN();
    }
  });

  it('agrees with Date on 200 000 random instants', () => {
    const random = createRandom(1);
    for (let i = 0; i < 200_000; i++) {
      const ms = Math.floor(random.next() * 253_402_300_800_000);
      const iso = new Date(ms).toISOString();
      if (parseIsoTimestampMs(iso) !== ms) throw new Error(`parse ${iso}`);
    }
  });
});

describe('formatIsoTimestamp', () => {
  it('matches toISOString, including across days and outside the fast range', () => {
    const random = createRandom(2);
    for (let i = 0; i < 200_000; i++) {
      const ms = Math.floor(random.next() * 253_402_300_800_000);
      if (formatIsoTimestamp(ms) !== new Date(ms).toISOString()) throw new Error(`format ${ms}`);
    }
    for (const ms of [
      0,
      86_399_999,
      86_400_000,
      -1,
      1.5,
      253_402_300_800_000,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
    ]) {
      expect(formatIsoTimestamp(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
