import { describe, expect, it } from 'vitest';
import { memoryBreakdown } from '../../../src/status/memoryBreakdown.js';

const MB = 1024 * 1024;

describe('memoryBreakdown', () => {
  it('lists the main thread, then each producer thread by slot, and sums heaps, external and array buffers', () => {
    const b = memoryBreakdown({
      rssBytes: 150 * MB,
      main: { heapUsed: 30 * MB, heapTotal: 40 * MB, external: 12 * MB, arrayBuffers: 8 * MB },
      producerThreads: [
        { slot: 1, usage: { heapUsed: 5 * MB, heapTotal: 9 * MB, external: 2 * MB, arrayBuffers: 1 * MB } },
        { slot: 0, usage: { heapUsed: 6 * MB, heapTotal: 10 * MB, external: 3 * MB, arrayBuffers: 2 * MB } },
      ],
      encoderThreads: 0,
    });
    expect(b.threads.map((t) => t.area)).toEqual(['main', 'producer_thread_0', 'producer_thread_1']);
    expect(b.threads[1]).toEqual({
      area: 'producer_thread_0',
      heapUsedBytes: 6 * MB,
      heapTotalBytes: 10 * MB,
      externalBytes: 3 * MB,
      arrayBuffersBytes: 2 * MB,
    });
    expect(b.rssBytes).toBe(150 * MB);
    expect(b.heapUsedBytes).toBe(41 * MB);
    expect(b.heapTotalBytes).toBe(59 * MB);
    expect(b.externalBytes).toBe(17 * MB);
    expect(b.kafkaBuffersEstimateBytes).toBe(11 * MB);
    expect(b.encoderThreads).toBe(0);
  });

  it('reports the main thread alone when no producer runs (etl)', () => {
    const b = memoryBreakdown({
      rssBytes: 1,
      main: { heapUsed: 1, heapTotal: 2, external: 3, arrayBuffers: 1 },
      producerThreads: [],
      encoderThreads: 2,
    });
    expect(b.threads).toHaveLength(1);
    expect(b.encoderThreads).toBe(2);
  });
});
