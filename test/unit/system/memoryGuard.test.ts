import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { startMemoryGuard } from '../../../src/system/memoryGuard.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('memory guard', () => {
  it('collects when the heap in use passes the soft limit, and not below it', async () => {
    const idle = startMemoryGuard({
      softLimitBytes: v8.getHeapStatistics().used_heap_size * 20,
      checkEveryMs: 10,
      minIntervalMs: 10,
    });
    await sleep(100);
    expect(idle.collections).toBe(0);
    idle.stop();

    const guard = startMemoryGuard({ softLimitBytes: 1, checkEveryMs: 10, minIntervalMs: 10 });
    await sleep(100);
    guard.stop();
    expect(guard.collections).toBeGreaterThan(0);
  });

  it('raises its threshold above what survives a collection, so a large live set is not collected on every check', async () => {
    // The live set (this test process) is far above the 1-byte soft limit: after the first
    // collection the threshold is 1.5 × the live heap, so the next checks rarely collect.
    const guard = startMemoryGuard({ softLimitBytes: 1, checkEveryMs: 5, minIntervalMs: 5 });
    await sleep(300);
    guard.stop();
    expect(guard.collections).toBeGreaterThan(0);
    expect(guard.collections).toBeLessThan(20);
  });
});
