import { describe, expect, it } from 'vitest';
import { AUTO_EVENTS_PER_THREAD, AUTO_MAX_THREADS, producerThreadCount } from '../../../src/producer/threadSizing.js';

describe('producerThreadCount', () => {
  it('keeps an explicit thread count, whatever the rates', () => {
    expect(producerThreadCount(4, { clickstream: 120, iot: 60 }, 2)).toBe(4);
    expect(producerThreadCount(12, { clickstream: 0 }, 2)).toBe(12);
  });

  it('starts one thread for the default rates and for 20,000 events/s', () => {
    expect(producerThreadCount('auto', { clickstream: 120, iot: 60 }, 2)).toBe(1);
    expect(producerThreadCount('auto', { clickstream: 14_000, iot: 6_000 }, 2)).toBe(1);
  });

  it('adds a thread per AUTO_EVENTS_PER_THREAD of the total rate, up to the cores and AUTO_MAX_THREADS', () => {
    expect(producerThreadCount('auto', { clickstream: AUTO_EVENTS_PER_THREAD, iot: 1 }, 8)).toBe(2);
    expect(producerThreadCount('auto', { clickstream: 3 * AUTO_EVENTS_PER_THREAD }, 8)).toBe(3);
    expect(producerThreadCount('auto', { clickstream: 3 * AUTO_EVENTS_PER_THREAD }, 2)).toBe(2);
    expect(producerThreadCount('auto', { clickstream: 100 * AUTO_EVENTS_PER_THREAD }, 64)).toBe(AUTO_MAX_THREADS);
  });

  it('gives an unlimited stream (rate 0) one thread per core, at most AUTO_MAX_THREADS', () => {
    expect(producerThreadCount('auto', { clickstream: 0, iot: 60 }, 2)).toBe(2);
    expect(producerThreadCount('auto', { iot: 0 }, 1)).toBe(1);
    expect(producerThreadCount('auto', { clickstream: 0 }, 16)).toBe(AUTO_MAX_THREADS);
  });

  it('counts only the streams generated, and never starts fewer than one thread', () => {
    expect(producerThreadCount('auto', { iot: 60 }, 4)).toBe(1);
    expect(producerThreadCount('auto', {}, 4)).toBe(1);
    expect(producerThreadCount('auto', { clickstream: 50_000 }, 0)).toBe(1);
  });
});
