import { describe, expect, it } from 'vitest';
import { applyCheckpoint, emptyCheckpointState, rawSinkId } from '../../../src/checkpoint/checkpointState.js';
import { loadConfig } from '../../../src/config/load.js';
import type { ResolvedConfig } from '../../../src/etl/windowsModeCheck.js';
import { checkpointedPartitions } from '../../../src/etl/offsetGuard.js';
import { findOutOfRange } from '../../../src/etl/offsetRange.js';
import { sinksOfPartition } from '../../../src/platform/etlRuntime.js';

function config(windows: 'process' | 'members'): ResolvedConfig {
  const loaded = loadConfig(new URL('../../../config.yml', import.meta.url).pathname, { SDP_ETL__WINDOWS: windows });
  return { ...loaded.config, etl: { ...loaded.config.etl, windows } };
}

describe('sinksOfPartition', () => {
  it("counts the window aggregator's sink for clickstream only when the windows run in the process", () => {
    const process = config('process');
    const members = config('members');
    expect(sinksOfPartition(process, 'clickstream', 0)).toHaveLength(2);
    expect(sinksOfPartition(members, 'clickstream', 0)).toEqual([rawSinkId(members.topics.clickstream, 0)]);
    expect(sinksOfPartition(process, 'iot', 0)).toEqual([rawSinkId(process.topics.iot, 0)]);
  });

  it('with the windows across members, a partition durable through 99 is not before a log start of 50', () => {
    const members = config('members');
    const topic = members.topics.clickstream;
    const state = applyCheckpoint(emptyCheckpointState(), {
      type: 'raw',
      sink: rawSinkId(topic, 0),
      topic,
      partition: 0,
      offset: '99',
      rows: 100,
      rejected: 0,
      renames: [],
    });
    const checkpointed = checkpointedPartitions(state, (p) => sinksOfPartition(members, 'clickstream', p));
    expect(checkpointed.get(0)).toEqual({ next: '100', highest: '100' });
    expect(findOutOfRange(topic, checkpointed, new Map([[0, { start: '50', end: '200' }]]))).toEqual([]);
  });
});
