import { describe, expect, it } from 'vitest';
import { MEMORY_MAX_AGE_MS, ThreadMemoryTable } from '../../../src/producer/threadMemoryTable.js';

const usage = (n: number) => ({ heapUsed: n, heapTotal: 2 * n, external: 3 * n, arrayBuffers: 4 * n });

describe('ThreadMemoryTable', () => {
  it('reads back what each slot wrote, through the shared buffer another thread holds', () => {
    const buffer = ThreadMemoryTable.allocate(3);
    const writer = new ThreadMemoryTable(buffer);
    const reader = new ThreadMemoryTable(buffer);
    writer.write(0, usage(10), 1_000);
    writer.write(2, usage(30), 1_500);
    expect(reader.read(2_000, MEMORY_MAX_AGE_MS)).toEqual([
      { slot: 0, atMs: 1_000, usage: usage(10) },
      { slot: 2, atMs: 1_500, usage: usage(30) },
    ]);
  });

  it('leaves out a row not written within maxAgeMs (its thread is gone)', () => {
    const table = new ThreadMemoryTable(ThreadMemoryTable.allocate(2));
    table.write(0, usage(1), 1_000);
    table.write(1, usage(2), 1_000 + MEMORY_MAX_AGE_MS);
    expect(table.read(1_001 + MEMORY_MAX_AGE_MS, MEMORY_MAX_AGE_MS).map((r) => r.slot)).toEqual([1]);
  });

  it('refuses a slot it has no row for', () => {
    const table = new ThreadMemoryTable(ThreadMemoryTable.allocate(2));
    expect(() => table.write(2, usage(1), 1)).toThrow(RangeError);
    expect(() => table.write(-1, usage(1), 1)).toThrow(RangeError);
  });
});
