import { describe, expect, it } from 'vitest';
import {
  decodeOffsetFetchResponse,
  encodeOffsetFetchRequest,
  kafkaErrorName,
  OFFSET_FETCH_V7,
} from '../../../../src/kafka/wire/offsetFetch.js';
import { encodeRequest } from '../../../../src/kafka/wire/wireProtocol.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('encodeOffsetFetchRequest (OffsetFetch v7, flexible)', () => {
  it('writes group, one topic, its partitions and require_stable as compact fields with empty tag buffers', () => {
    const body = encodeOffsetFetchRequest('g1', 't', [0, 3]);
    expect(body.toString('hex')).toBe(
      hex(
        `
        03 6731           -- group_id "g1" (compact: length + 1)
        02                -- topics: 1 (+ 1)
        02 74             -- name "t"
        03 00000000 00000003 -- partition_indexes [0, 3]
        00                -- topic tags
        01                -- require_stable = true
        00                -- request tags
      `.replace(/--[^\n]*/g, ''),
      ).toString('hex'),
    );
  });

  it('frames it with request header v2 (api key 9, version 7, client id as INT16 string, empty tags)', () => {
    const frame = encodeRequest(OFFSET_FETCH_V7, 0x01020304, 'c', encodeOffsetFetchRequest('g', 't', [1]), true);
    expect(frame.toString('hex')).toBe(
      hex(
        `
        00000019          -- size: 25 bytes follow
        0009 0007         -- api key, version
        01020304          -- correlation id
        0001 63           -- client id "c"
        00                -- header tags
        02 67 02 02 74 02 00000001 00 01 00
      `.replace(/--[^\n]*/g, ''),
      ).toString('hex'),
    );
  });
});

describe('decodeOffsetFetchResponse (OffsetFetch v7)', () => {
  it('reads two partitions: an offset with metadata, and an unstable one with null metadata; skips tagged fields', () => {
    const response = decodeOffsetFetchResponse(
      hex(
        `
        00000000                  -- throttle_time_ms
        02                        -- topics: 1
        02 74                     -- name "t"
        03                        -- partitions: 2
          00000000 000000000000002a 00000005 02 6d 0000 01 05 02 aabb -- p0, offset 42, epoch 5, "m", ok, one tag
          00000001 ffffffffffffffff ffffffff 00 0058 00               -- p1, offset -1, epoch -1, null, error 88
        00                        -- topic tags
        0000                      -- error_code
        00                        -- tags
      `.replace(/--[^\n]*/g, ''),
      ),
    );
    expect(response).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      topics: [
        {
          name: 't',
          partitions: [
            { partition: 0, offset: 42n, leaderEpoch: 5, metadata: 'm', errorCode: 0 },
            { partition: 1, offset: -1n, leaderEpoch: -1, metadata: null, errorCode: 88 },
          ],
        },
      ],
    });
  });

  it('reads an empty metadata string as "" (not null) and a top-level error with no topics', () => {
    const empty = decodeOffsetFetchResponse(
      hex('00000000 02 02 74 02 00000002 0000000000000007 ffffffff 01 0000 00 00 0000 00'),
    );
    expect(empty.topics[0]?.partitions[0]).toEqual({
      partition: 2,
      offset: 7n,
      leaderEpoch: -1,
      metadata: '',
      errorCode: 0,
    });
    const notCoordinator = decodeOffsetFetchResponse(hex('00000064 01 0010 00'));
    expect(notCoordinator).toEqual({ throttleTimeMs: 100, topics: [], errorCode: 16 });
  });

  it('names error codes for messages', () => {
    expect(kafkaErrorName(88)).toBe('UNSTABLE_OFFSET_COMMIT (88)');
    expect(kafkaErrorName(16)).toBe('NOT_COORDINATOR (16)');
    expect(kafkaErrorName(999)).toBe('error (999)');
  });
});
