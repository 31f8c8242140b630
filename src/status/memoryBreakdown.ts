/**
 * Where the platform's memory goes (architecture.md, "Back-pressure and shutdown"): the V8 heap,
 * external memory and array buffers of the main thread and of every producer thread. Served in
 * /api/status (`memory`), as `sdp_memory_bytes` on /metrics and logged with the producer metrics.
 * One process: RSS covers every thread; what the heaps do not explain is code, thread stacks, malloc
 * arenas and native libraries (DuckDB, SQLite, LZ4).
 */

/** The per-isolate part of `process.memoryUsage()` (rss is the process's, so it is not here). */
export interface HeapUsage {
  heapUsed: number;
  heapTotal: number;
  /** C++ objects bound to JS objects, array buffers included. */
  external: number;
  arrayBuffers: number;
}

export interface ThreadMemory {
  /** `main`, or `producer_thread_<slot>`. */
  area: string;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
}

export interface MemoryBreakdown {
  rssBytes: number;
  threads: ThreadMemory[];
  /** Sums over every thread. */
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  /**
   * kafkajs keeps every request and fetch response as Buffers (array buffers): the array buffers of
   * every thread are an upper estimate of its buffers (the Parquet encoder's output buffers count too).
   */
  kafkaBuffersEstimateBytes: number;
  /** Parquet encoder threads (etl.encoder_threads); 0 encodes on the main thread, inside its heap. */
  encoderThreads: number;
}

export function threadMemory(area: string, usage: HeapUsage): ThreadMemory {
  return {
    area,
    heapUsedBytes: usage.heapUsed,
    heapTotalBytes: usage.heapTotal,
    externalBytes: usage.external,
    arrayBuffersBytes: usage.arrayBuffers,
  };
}

export function memoryBreakdown(input: {
  rssBytes: number;
  main: HeapUsage;
  producerThreads: Array<{ slot: number; usage: HeapUsage }>;
  encoderThreads: number;
}): MemoryBreakdown {
  const threads = [
    threadMemory('main', input.main),
    ...[...input.producerThreads]
      .sort((a, b) => a.slot - b.slot)
      .map((t) => threadMemory(`producer_thread_${t.slot}`, t.usage)),
  ];
  const sum = (f: (t: ThreadMemory) => number): number => threads.reduce((n, t) => n + f(t), 0);
  return {
    rssBytes: input.rssBytes,
    threads,
    heapUsedBytes: sum((t) => t.heapUsedBytes),
    heapTotalBytes: sum((t) => t.heapTotalBytes),
    externalBytes: sum((t) => t.externalBytes),
    kafkaBuffersEstimateBytes: sum((t) => t.arrayBuffersBytes),
    encoderThreads: input.encoderThreads,
  };
}
