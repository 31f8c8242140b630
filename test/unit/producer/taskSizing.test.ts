import { describe, expect, it } from 'vitest';
import { nextTaskSize, shouldLinger } from '../../../src/producer/taskSizing.js';

const sizing = { batchSize: 50, maxEventsPerTask: 20_000 };

describe('nextTaskSize', () => {
  it('sends what is due when less than a batch is due', () => {
    expect(nextTaskSize(7, 8, sizing)).toBe(7);
  });

  it('sends one batch when keeping up', () => {
    expect(nextTaskSize(120, 8, sizing)).toBe(50);
  });

  it('spreads a backlog over the free task slots, in tasks of at most maxEventsPerTask', () => {
    expect(nextTaskSize(8_000, 8, sizing)).toBe(1_000);
    expect(nextTaskSize(1_000_000, 8, sizing)).toBe(20_000);
    expect(nextTaskSize(1_000_000, 1, sizing)).toBe(20_000);
  });

  it('issues nothing without events or free slots', () => {
    expect(nextTaskSize(0, 8, sizing)).toBe(0);
    expect(nextTaskSize(100, 0, sizing)).toBe(0);
  });
});

describe('shouldLinger', () => {
  const base = {
    dueEvents: 10,
    leftEvents: Infinity,
    batchSize: 50,
    oldestDueAtMs: 1_000,
    nowMs: 1_050,
    lingerMs: 100,
  };

  it('waits for a fuller batch while the oldest due event is younger than lingerMs', () => {
    expect(shouldLinger(base)).toBe(true);
  });

  it('sends once the oldest due event has waited lingerMs', () => {
    expect(shouldLinger({ ...base, nowMs: 1_100 })).toBe(false);
  });

  it('sends at once when a whole batch is due', () => {
    expect(shouldLinger({ ...base, dueEvents: 50 })).toBe(false);
  });

  it('sends the last events of a count at once', () => {
    expect(shouldLinger({ ...base, dueEvents: 10, leftEvents: 10 })).toBe(false);
  });
});
