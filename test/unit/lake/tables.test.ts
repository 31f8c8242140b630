import { describe, expect, it } from 'vitest';
import { TABLES, TABLE_NAMES, assertBatchShape, assertNonEmptyBatch } from '../../../src/lake/tables.js';

describe('table schemas', () => {
  it('match the data contract of architecture.md, "Data contracts"', () => {
    const summary = Object.fromEntries(
      TABLE_NAMES.map((t) => [t, TABLES[t].map((c) => `${c.name}:${c.type}${c.optional ? '?' : ''}`)]),
    );
    expect(summary).toEqual({
      clickstream: ['event_id:UTF8', 'user_id:UTF8', 'url:UTF8', 'referrer:UTF8?', 'ua:UTF8', 'ts:TIMESTAMP_MILLIS'],
      iot: [
        'device_id:UTF8',
        'site:UTF8',
        'temp_c:DOUBLE',
        'humidity:DOUBLE',
        'battery:DOUBLE',
        'signal_strength:INT32',
        'ts:TIMESTAMP_MILLIS',
      ],
      clickstream_agg: ['minute_start:TIMESTAMP_MILLIS', 'minute_end:TIMESTAMP_MILLIS', 'url:UTF8', 'pv:INT64'],
      _rejected: [
        'topic:UTF8',
        'partition:INT32',
        'offset:INT64',
        'reason:UTF8',
        'detail:UTF8',
        'payload:UTF8',
        'payload_encoding:UTF8',
        'kafka_ts:TIMESTAMP_MILLIS?',
      ],
    });
  });
});

describe('assertBatchShape', () => {
  const good = { rowCount: 1, columns: { minute_start: [0], minute_end: [60_000], url: ['/a'], pv: [1] } };

  it('accepts a batch with every column rowCount long', () => {
    expect(() => assertBatchShape('clickstream_agg', good)).not.toThrow();
  });

  it('refuses a missing, extra or short column', () => {
    const { pv: _pv, ...missing } = good.columns;
    expect(() => assertBatchShape('clickstream_agg', { rowCount: 1, columns: { ...missing, count: [1] } })).toThrow(
      /misses column pv/,
    );
    expect(() => assertBatchShape('clickstream_agg', { rowCount: 1, columns: missing })).toThrow(
      /expected \[minute_start/,
    );
    expect(() => assertBatchShape('clickstream_agg', { rowCount: 2, columns: good.columns })).toThrow(
      /has 1 values, expected rowCount 2/,
    );
  });

  it('assertNonEmptyBatch refuses zero rows', () => {
    expect(() =>
      assertNonEmptyBatch('clickstream_agg', {
        rowCount: 0,
        columns: { minute_start: [], minute_end: [], url: [], pv: [] },
      }),
    ).toThrow(/empty/);
  });
});
