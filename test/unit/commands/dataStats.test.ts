import { describe, expect, it } from 'vitest';
import { renderDataStats, type DataStats } from '../../../src/commands/dataStats.js';

const stats = (internal: DataStats['internal_topics']): DataStats => ({
  lake_root: '/lake',
  tables: [],
  rejected_by_reason: {},
  checkpoints: {
    file: '/c/checkpoints.sqlite',
    exists: false,
    size_bytes: 0,
    journal_events: 0,
    snapshots: 0,
    checkpoints: 0,
    last_checkpoint: null,
  },
  offsets: [],
  internal_topics: internal,
  kafka_error: null,
});

describe('data stats: the window stages’ internal topics', () => {
  it('lists both with their partitions and offsets, or that they do not exist', () => {
    const text = renderDataStats(
      stats([
        { topic: 'g-pv-repartition', role: 'repartition', exists: true, partitions: 4, offsets: 12 },
        { topic: 'g-pv-state', role: 'state', exists: false, partitions: null, offsets: null },
      ]),
    );
    expect(text).toContain("the window stages' internal topics");
    expect(text).toMatch(/^g-pv-repartition\s+repartition\s+4\s+12$/m);
    expect(text).toMatch(/^g-pv-state\s+state\s+does not exist\s+-$/m);
  });

  it('shows unknown figures as dashes when Kafka did not answer', () => {
    const text = renderDataStats(
      stats([{ topic: 'g-pv-state', role: 'state', exists: null, partitions: null, offsets: null }]),
    );
    expect(text).toMatch(/^g-pv-state\s+state\s+-\s+-$/m);
  });
});
