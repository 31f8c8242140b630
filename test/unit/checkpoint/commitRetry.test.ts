import { describe, expect, it } from 'vitest';
import {
  applyCheckpoint,
  emptyCheckpointState,
  type AggCheckpoint,
  type RawCheckpoint,
} from '../../../src/checkpoint/checkpointState.js';
import {
  commitRetryDelayMs,
  isAggCheckpointCommitted,
  isRawRollCommitted,
  MAX_COMMIT_ATTEMPTS,
  mustCheckEarlierAttempt,
} from '../../../src/checkpoint/commitRetry.js';

describe('commitRetry', () => {
  it('backs off exponentially from 500 ms and gives up after the last attempt', () => {
    expect([1, 2, 3, 4, 5].map((n) => commitRetryDelayMs(n))).toEqual([500, 1_000, 2_000, 4_000, 8_000]);
    expect(commitRetryDelayMs(MAX_COMMIT_ATTEMPTS)).toBeNull();
    expect(commitRetryDelayMs(2, 2)).toBeNull();
    expect(commitRetryDelayMs(1, 3, 10)).toBe(10);
    // No cap below the last attempt's wait, whatever maxAttempts is.
    expect(commitRetryDelayMs(9, 10, 100)).toBe(25_600);
    expect(() => commitRetryDelayMs(0)).toThrow(RangeError);
  });

  it('only a retry looks for an earlier attempt', () => {
    expect(mustCheckEarlierAttempt(1)).toBe(false);
    expect(mustCheckEarlierAttempt(2)).toBe(true);
  });

  it('sees a raw roll committed when the sink offset reached its last offset', () => {
    const raw: RawCheckpoint = {
      type: 'raw',
      sink: 'raw:t:1',
      topic: 't',
      partition: 1,
      offset: '99',
      renames: [],
      rows: 1,
      rejected: 0,
    };
    const state = applyCheckpoint(emptyCheckpointState(), raw);
    expect(isRawRollCommitted(state, 'raw:t:1', 1, '99')).toBe(true);
    expect(isRawRollCommitted(state, 'raw:t:1', 1, '50')).toBe(true);
    expect(isRawRollCommitted(state, 'raw:t:1', 1, '100')).toBe(false);
    expect(isRawRollCommitted(state, 'raw:t:1', 2, '0')).toBe(false);
    expect(isRawRollCommitted(emptyCheckpointState(), 'raw:t:1', 1, '0')).toBe(false);
  });

  it('sees an aggregator checkpoint committed when its seq (or a later one) is in the store', () => {
    const agg: AggCheckpoint = {
      type: 'agg',
      sink: 'agg:t',
      topic: 't',
      seq: 4,
      offsets: { '0': '10' },
      state: {},
      renames: [],
      rows: 0,
    };
    const state = applyCheckpoint(emptyCheckpointState(), agg);
    expect(isAggCheckpointCommitted(state, 'agg:t', 4)).toBe(true);
    expect(isAggCheckpointCommitted(state, 'agg:t', 3)).toBe(true);
    expect(isAggCheckpointCommitted(state, 'agg:t', 5)).toBe(false);
    expect(isAggCheckpointCommitted(state, 'agg:other', 1)).toBe(false);
  });
});
