/**
 * The warnings a person watching the pipeline must not miss, as pure rules over one status
 * snapshot and the recent history: a partition not assigned, lag that keeps growing, checkpoints
 * gone stale, a broker down, restarts in the last hour.
 */
export interface Warning {
  id: 'partition-unassigned' | 'lag-growing' | 'checkpoints-stale' | 'broker-down' | 'restarts' | 'kafka-unreachable';
  message: string;
}

export interface WarningInput {
  nowMs: number;
  /** Whether the ETL runs in this process (no ETL: no partition, lag or checkpoint warnings). */
  etlRunning: boolean;
  partitions: ReadonlyArray<{ topic: string; partition: number; assigned: boolean; lagEvents: number | null }>;
  /** Lag per topic over time, oldest first. */
  lagHistory: ReadonlyArray<{ tMs: number; lagByTopic: Readonly<Record<string, number>> }>;
  /** When the last checkpoint was committed, or when the ETL started if none since. */
  lastCheckpointAtMs: number | null;
  checkpointStaleAfterMs: number;
  brokers: ReadonlyArray<{ address: string; up: boolean }> | null;
  kafkaError: string | null;
  restartTimesMs: readonly number[];
}

/** Lag must have grown across this many consecutive minutes to warn. */
export const LAG_GROWTH_MINUTES = 3;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/**
 * True when the smallest lag of each of the last `minutes` one-minute buckets is larger than the
 * one before it (and more than zero). Lag falls in steps each time files roll (a saw-tooth); its
 * minima only climb when the pipeline falls further behind.
 */
export function lagGrowing(
  samples: ReadonlyArray<{ tMs: number; lag: number }>,
  nowMs: number,
  minutes = LAG_GROWTH_MINUTES,
): { from: number; to: number } | null {
  const minima: number[] = [];
  for (let i = minutes; i >= 1; i--) {
    const inBucket = samples
      .filter((s) => s.tMs > nowMs - i * MINUTE_MS && s.tMs <= nowMs - (i - 1) * MINUTE_MS)
      .map((s) => s.lag);
    if (inBucket.length === 0) return null;
    minima.push(Math.min(...inBucket));
  }
  for (let i = 1; i < minima.length; i++) if (minima[i]! <= minima[i - 1]!) return null;
  return minima[minima.length - 1]! > 0 ? { from: minima[0]!, to: minima[minima.length - 1]! } : null;
}

export function pipelineWarnings(input: WarningInput): Warning[] {
  const out: Warning[] = [];
  if (input.kafkaError) out.push({ id: 'kafka-unreachable', message: `Kafka does not answer: ${input.kafkaError}` });
  for (const b of input.brokers ?? [])
    if (!b.up) out.push({ id: 'broker-down', message: `broker ${b.address} is down (not in the cluster metadata)` });
  if (input.etlRunning) {
    const unassigned = input.partitions.filter((p) => !p.assigned);
    if (unassigned.length > 0) {
      out.push({
        id: 'partition-unassigned',
        message: `${unassigned.length} partition(s) not assigned to this process: ${unassigned.map((p) => `${p.topic}/${p.partition}`).join(', ')}`,
      });
    }
    const topics = [...new Set(input.lagHistory.flatMap((h) => Object.keys(h.lagByTopic)))].sort();
    for (const topic of topics) {
      const samples = input.lagHistory.flatMap((h) =>
        h.lagByTopic[topic] === undefined ? [] : [{ tMs: h.tMs, lag: h.lagByTopic[topic]! }],
      );
      const grown = lagGrowing(samples, input.nowMs);
      if (grown)
        out.push({
          id: 'lag-growing',
          message: `lag of ${topic} has grown for ${LAG_GROWTH_MINUTES} minutes (from ${grown.from} to ${grown.to} events)`,
        });
    }
    const lagging = input.partitions.some((p) => (p.lagEvents ?? 0) > 0);
    if (
      lagging &&
      input.lastCheckpointAtMs !== null &&
      input.nowMs - input.lastCheckpointAtMs > input.checkpointStaleAfterMs
    ) {
      const ageS = Math.round((input.nowMs - input.lastCheckpointAtMs) / 1000);
      out.push({
        id: 'checkpoints-stale',
        message: `no checkpoint for ${ageS} s while events wait (expected within ${Math.round(input.checkpointStaleAfterMs / 1000)} s)`,
      });
    }
  }
  const recent = input.restartTimesMs.filter((t) => input.nowMs - t < HOUR_MS);
  if (recent.length > 0)
    out.push({
      id: 'restarts',
      message: `${recent.length} restart(s) in the last hour (last at ${new Date(Math.max(...recent)).toISOString()})`,
    });
  return out;
}
