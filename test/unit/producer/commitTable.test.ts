import { describe, expect, it } from 'vitest';
import { CommitTable } from '../../../src/producer/commitTable.js';

describe('CommitTable', () => {
  const table = () => new CommitTable(CommitTable.allocate(2, 3), 3);

  it('knows nothing of an attempt that never reached EndTxn', () => {
    expect(table().stateOf(7)).toBe('unknown');
  });

  it('follows an attempt through committing and committed', () => {
    const t = table();
    t.markCommitting(1, 2, 7);
    expect(t.stateOf(7)).toBe('committing');
    expect(t.committingAttempt(1, 2)).toBe(7);
    t.markCommitted(1, 2);
    expect(t.stateOf(7)).toBe('committed');
    expect(t.committingAttempt(1, 2)).toBeUndefined();
  });

  it('says not committed after a failure it saw', () => {
    const t = table();
    t.markCommitting(0, 0, 9);
    t.markIdle(0, 0);
    expect(t.stateOf(9)).toBe('not-committed');
  });

  it("keeps a replacement thread's resolution even after the lane is reused", () => {
    const t = table();
    t.markCommitting(0, 1, 11);
    // The thread dies here; its replacement asks the coordinator and records the answer.
    t.resolve(0, 1, 11, true);
    expect(t.stateOf(11)).toBe('committed');
    t.markCommitting(0, 1, 12);
    t.markCommitted(0, 1);
    expect(t.stateOf(11)).toBe('committed');
    expect(t.stateOf(12)).toBe('committed');
    t.markCommitting(1, 0, 13);
    t.resolve(1, 0, 13, false);
    expect(t.stateOf(13)).toBe('not-committed');
  });

  it('is shared: a view on the same buffer (another thread) sees the same states', () => {
    const buffer = CommitTable.allocate(2, 3);
    new CommitTable(buffer, 3).markCommitting(1, 1, 21);
    expect(new CommitTable(buffer, 3).stateOf(21)).toBe('committing');
  });
});
