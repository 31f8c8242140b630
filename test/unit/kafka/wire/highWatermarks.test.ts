import { describe, expect, it } from 'vitest';
import { decodeListOffsetsResponse, encodeListOffsetsRequest } from '../../../../src/kafka/wire/highWatermarks.js';
import { WireReader } from '../../../../src/kafka/wire/wireProtocol.js';

const hex = (s: string) => Buffer.from(s.replace(/--[^\n]*/g, '').replace(/\s+/g, ''), 'hex');

describe('ListOffsets v2 for the high watermark', () => {
  it('asks read_uncommitted (open and aborted records count) for the end (-1) of each partition', () => {
    expect(encodeListOffsetsRequest('t', [0, 3]).toString('hex')).toBe(
      hex(`
        ffffffff          -- replica_id -1
        00                -- isolation_level: read_uncommitted
        00000001          -- topics: 1
        0001 74           -- name "t"
        00000002          -- partitions: 2
        00000000 ffffffffffffffff -- partition 0, timestamp -1 (latest)
        00000003 ffffffffffffffff -- partition 3, timestamp -1
      `).toString('hex'),
    );
  });

  it('reads each partition with its error code and offset', () => {
    const body = hex(`
      00000000            -- throttle_time_ms
      00000001            -- topics: 1
      0001 74             -- name "t"
      00000002            -- partitions: 2
      00000000 0000 ffffffffffffffff 0000000000000007 -- partition 0, no error, timestamp -1, offset 7
      00000003 0006 ffffffffffffffff ffffffffffffffff -- partition 3, NOT_LEADER_OR_FOLLOWER
    `);
    expect(decodeListOffsetsResponse(new WireReader(body))).toEqual([
      { partition: 0, errorCode: 0, offset: 7n },
      { partition: 3, errorCode: 6, offset: -1n },
    ]);
  });
});
