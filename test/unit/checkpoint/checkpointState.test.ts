import { describe, expect, it } from 'vitest';
import {
  aggSinkId,
  applyCheckpoint,
  durableOffset,
  emptyCheckpointState,
  NO_OFFSET,
  pendingRenames,
  rawSinkId,
  sinkOffset,
  startOffset,
  type AggCheckpoint,
  type CheckpointState,
  type RawCheckpoint,
} from '../../../src/checkpoint/checkpointState.js';

const RAW0 = rawSinkId('clickstream', 0);
const RAW1 = rawSinkId('clickstream', 1);
const AGG = aggSinkId('clickstream');

function raw(partition: number, offset: string, tag = offset): RawCheckpoint {
  return {
    type: 'raw',
    sink: rawSinkId('clickstream', partition),
    topic: 'clickstream',
    partition,
    offset,
    renames: [
      {
        from: `tables/clickstream/dt=2024-03-01/part-${partition}-${tag}.parquet.tmp`,
        to: `tables/clickstream/dt=2024-03-01/part-${partition}-${tag}.parquet`,
      },
    ],
    rows: 10,
    rejected: 1,
  };
}

function agg(seq: number, offsets: Record<string, string>): AggCheckpoint {
  return {
    type: 'agg',
    sink: AGG,
    topic: 'clickstream',
    seq,
    offsets,
    state: { seq, open: ['w'] },
    renames: [
      {
        from: `tables/clickstream_agg/dt=2024-03-01/part-${seq}.parquet.tmp`,
        to: `tables/clickstream_agg/dt=2024-03-01/part-${seq}.parquet`,
      },
    ],
    rows: 3,
  };
}

function fold(events: Array<RawCheckpoint | AggCheckpoint>): CheckpointState {
  return events.reduce(applyCheckpoint, emptyCheckpointState());
}

describe('sink ids', () => {
  it('name raw sinks by topic and partition and the aggregator by topic', () => {
    expect(rawSinkId('iot', 3)).toBe('raw:iot:3');
    expect(aggSinkId('clickstream')).toBe('agg:clickstream');
  });
});

describe('applyCheckpoint', () => {
  it('records a raw checkpoint: offset of its partition in its sink, count, renames', () => {
    const before = emptyCheckpointState();
    const event = raw(0, '41');
    const after = applyCheckpoint(before, event);
    expect(after).toEqual({
      checkpoints: 1,
      offsets: { [RAW0]: { '0': '41' } },
      lastRenames: { [RAW0]: event.renames },
      aggregators: {},
    });
    // Pure: the input state is untouched.
    expect(before).toEqual(emptyCheckpointState());
  });

  it('records an agg checkpoint: offsets of every partition it covers, its seq and state', () => {
    const first = agg(1, { '0': '10', '1': '3' });
    const second = agg(2, { '1': '7' });
    const state = fold([first, second]);
    expect(state.checkpoints).toBe(2);
    // A partition the new event does not mention keeps its offset.
    expect(state.offsets[AGG]).toEqual({ '0': '10', '1': '7' });
    expect(state.aggregators[AGG]).toEqual({ seq: 2, state: second.state });
    expect(state.lastRenames[AGG]).toEqual(second.renames);
  });

  it('keeps sinks apart: a raw checkpoint does not touch the aggregator state and vice versa', () => {
    const state = fold([raw(0, '5'), agg(1, { '0': '2' }), raw(1, '9'), raw(0, '6')]);
    expect(state.offsets).toEqual({ [RAW0]: { '0': '6' }, [RAW1]: { '1': '9' }, [AGG]: { '0': '2' } });
    expect(state.aggregators[AGG]!.seq).toBe(1);
    expect(state.checkpoints).toBe(4);
  });

  it('accepts the same offset again (a retried commit) but never a smaller one', () => {
    const state = fold([raw(0, '41')]);
    expect(applyCheckpoint(state, raw(0, '41')).offsets[RAW0]).toEqual({ '0': '41' });
    expect(() => applyCheckpoint(state, raw(0, '40'))).toThrow(/behind the committed 41/);
  });

  it('refuses an agg checkpoint that moves any one partition backwards', () => {
    const state = fold([agg(1, { '0': '10', '1': '3' })]);
    expect(() => applyCheckpoint(state, agg(2, { '0': '11', '1': '2' }))).toThrow(/agg:clickstream\[1\]/);
  });

  it('compares offsets as int64 numbers, not as text', () => {
    const state = fold([raw(0, '9')]);
    // Lexically '10' < '9'; numerically it is ahead.
    expect(applyCheckpoint(state, raw(0, '10')).offsets[RAW0]).toEqual({ '0': '10' });
    const big = fold([raw(0, '9007199254740993')]); // 2^53 + 1: beyond a double
    expect(() => applyCheckpoint(big, raw(0, '9007199254740992'))).toThrow(/behind/);
  });
});

describe('offsets of a partition', () => {
  const state = fold([raw(0, '41'), agg(1, { '0': '17', '2': '50' }), raw(2, '30')]);

  it("sinkOffset is the sink's last durable offset, -1 when it has none", () => {
    expect(sinkOffset(state, RAW0, 0)).toBe('41');
    expect(sinkOffset(state, AGG, 0)).toBe('17');
    expect(sinkOffset(state, RAW1, 1)).toBe(NO_OFFSET);
    expect(sinkOffset(state, AGG, 1)).toBe(NO_OFFSET);
  });

  it('durableOffset is the minimum over the sinks, -1 when one sink has nothing', () => {
    expect(durableOffset(state, [RAW0, AGG], 0)).toBe('17');
    expect(durableOffset(state, [rawSinkId('clickstream', 2), AGG], 2)).toBe('30');
    expect(durableOffset(state, [RAW1, AGG], 1)).toBe(NO_OFFSET);
    expect(durableOffset(state, [RAW0], 0)).toBe('41');
    expect(durableOffset(state, [], 0)).toBe(NO_OFFSET);
  });

  it('startOffset is that minimum + 1: 0 for a partition no sink holds', () => {
    expect(startOffset(state, [RAW0, AGG], 0)).toBe('18');
    expect(startOffset(state, [RAW0], 0)).toBe('42');
    expect(startOffset(state, [RAW1, AGG], 1)).toBe('0');
    expect(startOffset(emptyCheckpointState(), [RAW0, AGG], 0)).toBe('0');
    expect(startOffset(fold([raw(0, '9223372036854775806')]), [RAW0], 0)).toBe('9223372036854775807');
  });
});

describe('pendingRenames', () => {
  it('is empty before any checkpoint', () => {
    expect(pendingRenames(emptyCheckpointState())).toEqual([]);
  });

  it('holds the renames of the latest checkpoint of every sink, and only those', () => {
    const a = raw(0, '10', 'a');
    const b = raw(0, '20', 'b');
    const c = raw(1, '5', 'c');
    const d = agg(1, { '0': '3' });
    const e = agg(2, { '0': '4' });
    const renames = pendingRenames(fold([a, c, d, b, e]));
    expect(renames).toHaveLength(3);
    expect(renames).toEqual(expect.arrayContaining([...b.renames, ...c.renames, ...e.renames]));
    expect(renames).not.toEqual(expect.arrayContaining(a.renames));
    expect(renames).not.toEqual(expect.arrayContaining(d.renames));
  });

  it("a checkpoint without files clears its sink's pending renames", () => {
    const state = fold([raw(0, '10'), { ...raw(0, '11'), renames: [] }]);
    expect(pendingRenames(state)).toEqual([]);
  });
});
