import { describe, expect, it } from 'vitest';
import { parseMessageQuery } from '../../../src/ui/kafkaBrowserServer.js';

const q = (s: string) => parseMessageQuery(new URLSearchParams(s));

describe('parseMessageQuery', () => {
  it('reads the last N by default', () => {
    expect(q('topic=t')).toEqual({ topic: 't', partition: 0, from: 'last', limit: 20 });
    expect(q('topic=t&partition=3&limit=5&from=last')).toEqual({ topic: 't', partition: 3, from: 'last', limit: 5 });
  });

  it('reads from an offset (as a bigint) or a timestamp (ms or ISO)', () => {
    expect(q('topic=t&from=offset&offset=9007199254740993')).toMatchObject({ from: 'offset', offset: 9007199254740993n });
    expect(q('topic=t&from=timestamp&timestamp=1700000000000')).toMatchObject({ from: 'timestamp', timestampMs: 1700000000000 });
    expect(q('topic=t&from=timestamp&timestamp=2026-12-01T00:00:00Z')).toMatchObject({ from: 'timestamp', timestampMs: Date.parse('2026-12-01T00:00:00Z') });
  });

  it('names what is wrong', () => {
    expect(q('')).toBe('topic is required');
    expect(q('topic=t&partition=-1')).toMatch(/partition/);
    expect(q('topic=t&limit=0')).toMatch(/limit/);
    expect(q('topic=t&from=offset&offset=abc')).toMatch(/offset/);
    expect(q('topic=t&from=timestamp&timestamp=yesterday')).toMatch(/timestamp/);
    expect(q('topic=t&from=middle')).toMatch(/from must be/);
  });
});
