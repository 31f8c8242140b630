import { describe, expect, it } from 'vitest';
import { decideOutOfRange, findOutOfRange } from '../../../src/etl/offsetRange.js';

const ranges = new Map([
  [0, { start: '130', end: '200' }],
  [1, { start: '0', end: '500' }],
  [2, { start: '0', end: '50' }],
]);

describe('findOutOfRange', () => {
  it('finds a checkpoint before the log start and one beyond the log end; in-range and end-exact are fine', () => {
    const found = findOutOfRange(
      't',
      new Map([
        [0, { next: '100', highest: '100' }],
        [1, { next: '500', highest: '500' }],
        [2, { next: '10', highest: '536' }],
      ]),
      ranges,
    );
    expect(found).toEqual([
      { topic: 't', partition: 0, checkpointed: '100', logStart: '130', logEnd: '200', kind: 'before-log-start' },
      { topic: 't', partition: 2, checkpointed: '536', logStart: '0', logEnd: '50', kind: 'beyond-log-end' },
    ]);
  });

  it('treats a checkpointed partition the topic no longer has as beyond its end', () => {
    expect(findOutOfRange('t', new Map([[7, { next: '3', highest: '3' }]]), ranges)).toMatchObject([
      { partition: 7, kind: 'beyond-log-end', logEnd: 'none' },
    ]);
  });
});

describe('decideOutOfRange', () => {
  const before = {
    topic: 't',
    partition: 0,
    checkpointed: '100',
    logStart: '130',
    logEnd: '200',
    kind: 'before-log-start' as const,
  };
  const beyond = {
    topic: 't',
    partition: 2,
    checkpointed: '536',
    logStart: '0',
    logEnd: '50',
    kind: 'beyond-log-end' as const,
  };

  it('fails by default, naming topic, partition, checkpointed offset, log start and end', () => {
    const d = decideOutOfRange(before, 'fail');
    expect(d.action).toBe('fail');
    expect(d.action === 'fail' && d.reason).toContain(
      't[0]: checkpointed offset 100 is before the log start (records deleted before they were read); log start 130, log end 200',
    );
  });

  it('skips to the log start or end when told, with the count skipped', () => {
    expect(decideOutOfRange(before, 'earliest')).toEqual({ action: 'skip', start: '130', skipped: 30n });
    expect(decideOutOfRange(before, 'latest')).toEqual({ action: 'skip', start: '200', skipped: 100n });
  });

  it('always fails beyond the log end: the sinks would skip the new log up to their old offsets', () => {
    for (const policy of ['fail', 'earliest', 'latest'] as const)
      expect(decideOutOfRange(beyond, policy).action).toBe('fail');
  });
});
