import { describe, expect, it } from 'vitest';
import {
  aggSinkId,
  applyCheckpoint,
  emptyCheckpointState,
  rawSinkId,
  type CheckpointState,
} from '../../../src/checkpoint/checkpointState.js';
import { loadConfig } from '../../../src/config/load.js';
import { configSchema, type Config } from '../../../src/config/schema.js';
import { checkpointedPartitions, guardCheckpointedOffsets, offsetsSkippedTotal } from '../../../src/etl/offsetGuard.js';
import { ErrorCodes, isSdpError } from '../../../src/errors.js';
import { silentLogger } from '../actors/fakes/testKit.js';

function config(policy: 'fail' | 'earliest' | 'latest'): Config {
  const { effective } = loadConfig(new URL('../../../config.yml', import.meta.url).pathname);
  return configSchema.parse({
    ...effective,
    etl: { ...(effective as { etl: object }).etl, on_offset_out_of_range: policy },
  });
}

const topic = 'clicks';
const sinksOf = (p: number): string[] => [rawSinkId(topic, p), aggSinkId(topic)];

function checkpointAt(raw: Record<number, string>, agg: Record<string, string>): CheckpointState {
  let state = emptyCheckpointState();
  for (const [p, offset] of Object.entries(raw)) {
    state = applyCheckpoint(state, {
      type: 'raw',
      sink: rawSinkId(topic, Number(p)),
      topic,
      partition: Number(p),
      offset,
      renames: [],
      rows: 1,
      rejected: 0,
    });
  }
  return applyCheckpoint(state, {
    type: 'agg',
    sink: aggSinkId(topic),
    topic,
    seq: 1,
    offsets: agg,
    state: {},
    renames: [],
    rows: 0,
  });
}

function ids(initial?: string) {
  let recorded = initial;
  return {
    topicId: () => recorded,
    recordTopicId: (_t: string, id: string) => void (recorded = id),
    get recorded() {
      return recorded;
    },
  };
}

describe('checkpointedPartitions', () => {
  it('resumes at the smallest sink offset + 1 and remembers the furthest sink', () => {
    const cp = checkpointedPartitions(checkpointAt({ 0: '535', 1: '9' }, { '0': '460' }), sinksOf);
    expect(cp.get(0)).toEqual({ next: '461', highest: '536' });
    // The aggregator has nothing of partition 1: reading resumes at 0, but the raw sink reached 9.
    expect(cp.get(1)).toEqual({ next: '0', highest: '10' });
  });
});

describe('guardCheckpointedOffsets', () => {
  const checkpoint = checkpointAt({ 0: '535', 1: '535' }, { '0': '535', '1': '535' });

  it('records the topic id on first sight and passes offsets that are inside the logs', async () => {
    const store = ids();
    const overrides = await guardCheckpointedOffsets({
      config: config('fail'),
      logger: silentLogger,
      topic,
      checkpoint,
      sinksOf,
      topicIds: store,
      fetchRanges: async () =>
        new Map([
          [0, { start: '0', end: '536' }],
          [1, { start: '0', end: '900' }],
        ]),
      fetchId: async () => 'aaaa',
    });
    expect(overrides.size).toBe(0);
    expect(store.recorded).toBe('aaaa');
  });

  it('stops when the topic id changed (deleted and recreated), whatever the policy', async () => {
    for (const policy of ['fail', 'earliest', 'latest'] as const) {
      const err = await guardCheckpointedOffsets({
        config: config(policy),
        logger: silentLogger,
        topic,
        checkpoint,
        sinksOf,
        topicIds: ids('aaaa'),
        fetchRanges: async () =>
          new Map([
            [0, { start: '0', end: '900' }],
            [1, { start: '0', end: '900' }],
          ]),
        fetchId: async () => 'bbbb',
      }).catch((e: unknown) => e);
      expect(isSdpError(err, ErrorCodes.KAFKA_OFFSET_OUT_OF_RANGE)).toBe(true);
      expect((err as Error).message).toContain(
        'topic clicks was deleted and recreated (topic id aaaa when checkpointed, bbbb now)',
      );
    }
  });

  it('stops by default when records were deleted unread, and skips (counted) with earliest', async () => {
    const fetchRanges = async () =>
      new Map([
        [0, { start: '600', end: '900' }],
        [1, { start: '0', end: '900' }],
      ]);
    const err = await guardCheckpointedOffsets({
      config: config('fail'),
      logger: silentLogger,
      topic,
      checkpoint,
      sinksOf,
      fetchRanges,
      fetchId: async () => null,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toContain(
      'clicks[0]: checkpointed offset 536 is before the log start (records deleted before they were read); log start 600, log end 900',
    );
    const before = offsetsSkippedTotal().find((s) => s.topic === topic && s.partition === 0)?.offsets ?? 0;
    const overrides = await guardCheckpointedOffsets({
      config: config('earliest'),
      logger: silentLogger,
      topic,
      checkpoint,
      sinksOf,
      fetchRanges,
      fetchId: async () => null,
    });
    expect(Object.fromEntries(overrides)).toEqual({ 0: '600' });
    expect(offsetsSkippedTotal().find((s) => s.topic === topic && s.partition === 0)?.offsets).toBe(before + 64);
  });
});
