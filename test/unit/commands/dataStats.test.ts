import { describe, expect, it } from 'vitest';
import { renderDataStats, type DataStats } from '../../../src/commands/dataStats.js';

const stats = (internal: DataStats['internal_topics']): DataStats => ({
  lake_root: '/lake',
  tables: [],
  rejected_by_reason: {},
  sealed_days: [],
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

describe('data stats: sealed days', () => {
  it('lists each sealed day and table with its late rows, or says there is none', () => {
    expect(renderDataStats(stats([]))).toMatch(/^sealed days: none$/m);
    const text = renderDataStats({
      ...stats([]),
      sealed_days: [
        {
          dt: '2026-12-04',
          table: 'clickstream',
          rows: 12345,
          files: 4,
          late_rows: 3,
          revision: 2,
          sealed_at: '2026-12-05T01:05:00.000Z',
        },
      ],
    });
    expect(text).toContain('sealed days (late rows: landed after the seal)');
    expect(text).toMatch(/^2026-12-04\s+clickstream\s+12,345\s+4\s+3\s+2\s+2026-12-05T01:05:00.000Z$/m);
  });
});
