import type { StreamName } from '../events/types.js';
import { percentile } from './latencyStats.js';

/** The figures of one stream, as logged every interval and served to the status page. */
export interface StreamMetricsSnapshot {
  stream: StreamName;
  /** Events acknowledged by Kafka (committed) since start. */
  total: number;
  /** Failed batch attempts since start (each failed batch is retried). */
  errors: number;
  /** Acknowledged events per second over the last interval. */
  eventsPerSecond: number;
  bytesTotal: number;
  /** Committed transactions (acknowledged batches) since start. */
  transactions: number;
  /** Mean events per transaction over the last interval; null when none committed in it. */
  eventsPerTransaction: number | null;
  ackLatencyMsP50: number | null;
  ackLatencyMsP99: number | null;
  intervalMs: number;
}

/**
 * Counts per stream. `roll(nowMs)` closes an interval: rates and percentiles are over the interval
 * just closed, totals since start.
 */
export class StreamMetrics {
  private total = 0;
  private errors = 0;
  private bytes = 0;
  private transactions = 0;
  private intervalEvents = 0;
  private intervalLatenciesMs: number[] = [];
  private intervalStartMs: number;
  private last: StreamMetricsSnapshot;

  constructor(
    readonly stream: StreamName,
    nowMs: number,
  ) {
    this.intervalStartMs = nowMs;
    this.last = this.snapshotOf(nowMs, [], 0);
  }

  recordAck(events: number, bytes: number, latencyMs: number): void {
    this.total += events;
    this.bytes += bytes;
    this.transactions += 1;
    this.intervalEvents += events;
    this.intervalLatenciesMs.push(latencyMs);
  }

  recordError(): void {
    this.errors += 1;
  }

  get acknowledgedTotal(): number {
    return this.total;
  }

  /** Closes the current interval and returns its figures. */
  roll(nowMs: number): StreamMetricsSnapshot {
    const latencies = this.intervalLatenciesMs.sort((a, b) => a - b);
    this.last = this.snapshotOf(nowMs, latencies, this.intervalEvents);
    this.intervalStartMs = nowMs;
    this.intervalEvents = 0;
    this.intervalLatenciesMs = [];
    return this.last;
  }

  /** The figures of the last closed interval, with totals as of now. */
  current(): StreamMetricsSnapshot {
    return {
      ...this.last,
      total: this.total,
      errors: this.errors,
      bytesTotal: this.bytes,
      transactions: this.transactions,
    };
  }

  private snapshotOf(nowMs: number, sortedLatencies: number[], events: number): StreamMetricsSnapshot {
    const intervalMs = Math.max(1, nowMs - this.intervalStartMs);
    return {
      stream: this.stream,
      total: this.total,
      errors: this.errors,
      eventsPerSecond: Math.round((events * 1000) / intervalMs),
      bytesTotal: this.bytes,
      transactions: this.transactions,
      // One latency is recorded per acknowledged batch (transaction).
      eventsPerTransaction: sortedLatencies.length === 0 ? null : events / sortedLatencies.length,
      ackLatencyMsP50: percentile(sortedLatencies, 50),
      ackLatencyMsP99: percentile(sortedLatencies, 99),
      intervalMs,
    };
  }
}
