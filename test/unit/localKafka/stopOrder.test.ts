import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { activeController, describeStopOrder, stopOrder } from '../../../src/localKafka/stopOrder.js';

describe('stopOrder', () => {
  it('three voters: one node alone, then the last majority with the active controller together', () => {
    expect(stopOrder([1, 2, 3], 3, 1)).toEqual([[2], [1, 3]]);
    expect(stopOrder([1, 2, 3], 3, 3)).toEqual([[1], [2, 3]]);
    expect(stopOrder([1, 2, 3], 3, undefined)).toEqual([[1], [2, 3]]);
  });

  it('never leaves a node alone without a majority: the last group is a majority of the voters', () => {
    expect(stopOrder([1, 2, 3, 4, 5], 5, 2)).toEqual([[1], [3], [2, 4, 5]]);
    expect(stopOrder([2, 3], 3, 3)).toEqual([[2, 3]]);
    expect(stopOrder([1], 1, 1)).toEqual([[1]]);
    expect(stopOrder([], 3, 1)).toEqual([]);
  });

  it('says the order it took', () => {
    expect(describeStopOrder([[2], [1, 3]], 3)).toBe('node 2, then nodes 1 and 3 together (3 the active controller)');
    expect(describeStopOrder([[1]], undefined)).toBe('node 1');
  });
});

describe('activeController', () => {
  it('is the leader of the highest epoch the nodes recorded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdp-quorum-'));
    const write = (node: number, state: unknown) => {
      const d = join(dir, `node-${node}`, 'data', '__cluster_metadata-0');
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'quorum-state'), typeof state === 'string' ? state : JSON.stringify(state));
    };
    write(1, { leaderId: 1, leaderEpoch: 1 });
    write(2, { leaderId: 3, leaderEpoch: 4, votedId: -1 });
    write(3, '{"leaderId":');
    const nodes = [1, 2, 3, 4].map((n) => join(dir, `node-${n}`));
    expect(activeController(nodes)).toBe(3);
    expect(activeController([join(dir, 'none')])).toBeUndefined();
  });
});
