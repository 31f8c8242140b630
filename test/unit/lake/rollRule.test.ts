import { describe, expect, it } from 'vitest';
import {
  backlogChange,
  isBacklogged,
  minPressureRollRows,
  rollDecision,
  type RollFacts,
  type RollLimits,
  type WriterFacts,
} from '../../../src/lake/rollRule.js';

const limits: RollLimits = {
  maxFileRows: 1_000,
  maxFileBytes: 1_000_000,
  maxFileAgeMs: 60_000,
  maxFileIdleMs: 2_000,
  minPressureRollRows: 100,
};
const NOW = 1_000_000;

/** A writer holding 10 records that arrived just now, no roll in flight, no budget. */
function writer(over: Partial<WriterFacts> = {}): WriterFacts {
  return {
    bufferedRecords: 10,
    bufferedBytes: 1_000,
    empty: false,
    bufferSinceMs: NOW,
    lastAppendMs: NOW,
    rolling: false,
    ...over,
  };
}

function facts(over: Partial<WriterFacts> = {}, force = false): RollFacts {
  return { ...writer(over), limits, force };
}

describe('minPressureRollRows', () => {
  it('is a sixteenth of the budget, at least one row, and never without a budget', () => {
    expect(minPressureRollRows(160_000)).toBe(10_000);
    expect(minPressureRollRows(8)).toBe(1);
    expect(minPressureRollRows(undefined)).toBe(Infinity);
  });
});

describe('rollDecision', () => {
  it('does not roll a fresh, small buffer', () => {
    expect(rollDecision(facts(), NOW)).toEqual({ roll: false, reason: 'not-due' });
  });

  it('rolls a full buffer, by records or by bytes', () => {
    expect(rollDecision(facts({ bufferedRecords: 1_000 }), NOW)).toEqual({ roll: true, reason: 'full' });
    expect(rollDecision(facts({ bufferedRecords: 999 }), NOW).roll).toBe(false);
    expect(rollDecision(facts({ bufferedBytes: 1_000_000 }), NOW)).toEqual({ roll: true, reason: 'full' });
  });

  it('rolls a buffer whose first append is max_file_age old, though appends keep coming', () => {
    expect(rollDecision(facts({ bufferSinceMs: NOW - 60_000 }), NOW)).toEqual({ roll: true, reason: 'age' });
    expect(rollDecision(facts({ bufferSinceMs: NOW - 59_999 }), NOW).roll).toBe(false);
  });

  it('rolls a buffer that received nothing for max_file_idle', () => {
    const quiet = { bufferSinceMs: NOW - 2_000, lastAppendMs: NOW - 2_000 };
    expect(rollDecision(facts(quiet), NOW)).toEqual({ roll: true, reason: 'idle' });
    expect(rollDecision(facts({ lastAppendMs: NOW - 1_999 }), NOW).roll).toBe(false);
  });

  it('rolls early under budget pressure, but only from minPressureRollRows', () => {
    const pressing = { budget: { pressing: true, exceeded: false } };
    expect(rollDecision(facts({ ...pressing, bufferedRecords: 100 }), NOW)).toEqual({ roll: true, reason: 'pressure' });
    expect(rollDecision(facts({ ...pressing, bufferedRecords: 99 }), NOW).roll).toBe(false);
    const relaxed = { budget: { pressing: false, exceeded: false } };
    expect(rollDecision(facts({ ...relaxed, bufferedRecords: 500 }), NOW).roll).toBe(false);
  });

  it('rolls anything buffered when forced (flush, end of a backlog)', () => {
    expect(rollDecision(facts({ bufferedRecords: 1 }, true), NOW)).toEqual({ roll: true, reason: 'force' });
  });

  it('never rolls while a roll is in flight, nor an empty buffer, even when forced or due', () => {
    const due = { bufferedRecords: 5_000, bufferSinceMs: 0, lastAppendMs: 0 };
    expect(rollDecision(facts({ ...due, rolling: true }, true), NOW)).toEqual({ roll: false, reason: 'rolling' });
    expect(rollDecision(facts({ ...due, empty: true }, true), NOW)).toEqual({ roll: false, reason: 'empty' });
  });

  it('names the first reason that holds: force, full, age, idle, pressure', () => {
    const all = {
      bufferedRecords: 2_000,
      bufferSinceMs: 0,
      lastAppendMs: 0,
      budget: { pressing: true, exceeded: true },
    };
    expect(rollDecision(facts(all, true), NOW).reason).toBe('force');
    expect(rollDecision(facts(all), NOW).reason).toBe('full');
    expect(rollDecision(facts({ ...all, bufferedRecords: 500 }), NOW).reason).toBe('age');
    expect(rollDecision(facts({ ...all, bufferedRecords: 500, bufferSinceMs: NOW }), NOW).reason).toBe('idle');
  });
});

describe('isBacklogged', () => {
  it('is backlogged when a whole roll waits behind the one in flight', () => {
    expect(isBacklogged(writer({ rolling: true, bufferedRecords: 1_000 }), limits)).toBe(true);
    expect(isBacklogged(writer({ rolling: true, bufferedRecords: 999 }), limits)).toBe(false);
    expect(isBacklogged(writer({ rolling: false, bufferedRecords: 5_000 }), limits)).toBe(false);
  });

  it('over the budget: backlogged unless it can roll now to give rows back', () => {
    const exceeded = { budget: { pressing: true, exceeded: true } };
    expect(isBacklogged(writer({ ...exceeded, rolling: true }), limits)).toBe(true);
    expect(isBacklogged(writer({ ...exceeded, bufferedRecords: 99 }), limits)).toBe(true);
    expect(isBacklogged(writer({ ...exceeded, bufferedRecords: 100 }), limits)).toBe(false);
    expect(isBacklogged(writer({ budget: { pressing: true, exceeded: false }, rolling: true }), limits)).toBe(false);
  });
});

describe('backlogChange', () => {
  const backlogged = writer({ rolling: true, bufferedRecords: 1_000 });
  it('reports the crossing of the high-water mark each way, and nothing in between', () => {
    expect(backlogChange(false, backlogged, limits)).toBe('high');
    expect(backlogChange(true, backlogged, limits)).toBeNull();
    expect(backlogChange(true, writer(), limits)).toBe('drained');
    expect(backlogChange(false, writer(), limits)).toBeNull();
  });
});
