import { describe, expect, it } from 'vitest';
import { RecordBufferPool } from '../../../src/kafka/recordBufferPool.js';
import { RecordsBuilder } from '../../../src/kafka/recordsBuilder.js';

describe('RecordBufferPool', () => {
  it('gives back the smallest kept buffer that is large enough, else a new one', () => {
    const pool = new RecordBufferPool();
    const small = Buffer.alloc(100);
    const large = Buffer.alloc(1_000);
    pool.give(large);
    pool.give(small);
    expect(pool.take(50)).toBe(small);
    expect(pool.take(50)).toBe(large);
    const fresh = pool.take(50);
    expect(fresh).not.toBe(small);
    expect(fresh.length).toBe(50);
    expect(pool.size).toEqual({ buffers: 0, bytes: 0 });
  });

  it('keeps at most its count and bytes, dropping the smallest buffers first', () => {
    const pool = new RecordBufferPool(2, 1_500);
    const sizes = [100, 1_000, 200, 300];
    for (const size of sizes) pool.give(Buffer.alloc(size));
    expect(pool.size).toEqual({ buffers: 2, bytes: 1_300 });
    pool.give(Buffer.alloc(600));
    expect(pool.size).toEqual({ buffers: 1, bytes: 1_000 });
  });

  it("takes a builder's buffers back at its release, the grown ones at once, and lends them to the next", () => {
    const pool = new RecordBufferPool();
    const first = new RecordsBuilder({ partitions: 2, recordsPerRequest: 1_000, pool });
    // Far more than the smallest buffers hold: they grow, and the outgrown ones go back to the pool.
    for (let i = 0; i < 500; i++) first.append(`u-${i}`, 'x'.repeat(100));
    const outgrown = pool.size.buffers;
    expect(outgrown).toBeGreaterThan(0);
    const records = first.finish();
    expect(records.reduce((n, list) => n + list.reduce((m, r) => m + r.count, 0), 0)).toBe(500);
    first.release();
    expect(pool.size.buffers).toBe(outgrown + records.length);
    const kept = pool.size.bytes;
    const second = new RecordsBuilder({ partitions: 2, recordsPerRequest: 1_000, pool });
    second.append('u-1', 'y');
    expect(pool.size.bytes).toBeLessThan(kept);
    second.release();
    expect(pool.size.bytes).toBe(kept);
  });
});
