import { describe, expect, it } from 'vitest';
import { lagGrowing, pipelineWarnings, type WarningInput } from '../../../src/status/warnings.js';

const NOW = 10_000_000;
const base: WarningInput = {
  nowMs: NOW,
  etlRunning: true,
  partitions: [{ topic: 't', partition: 0, assigned: true, lagEvents: 0 }],
  lagHistory: [],
  lastCheckpointAtMs: NOW - 1_000,
  checkpointStaleAfterMs: 60_000,
  brokers: [{ address: 'a:1', up: true }],
  kafkaError: null,
  restartTimesMs: [],
};
const ids = (input: Partial<WarningInput>) => pipelineWarnings({ ...base, ...input }).map((w) => w.id);

/** Samples every 2 s over the last `minutes`, lag given by f(seconds ago). */
function samples(minutes: number, f: (agoS: number) => number) {
  const out = [];
  for (let ago = minutes * 60; ago >= 0; ago -= 2) out.push({ tMs: NOW - ago * 1000, lag: f(ago) });
  return out;
}

describe('lagGrowing', () => {
  it('is true when the minimum of each of the last three minutes climbs', () => {
    expect(
      lagGrowing(
        samples(3, (ago) => 1000 - ago),
        NOW,
      ),
    ).toEqual({ from: 822, to: 942 }); // buckets are (start, end]: the first minute's oldest sample is 178 s ago;
  });

  it('ignores the saw-tooth of rolls that catch up', () => {
    // Climbs within each 20 s, drops to 0 at each roll: not falling behind.
    expect(
      lagGrowing(
        samples(3, (ago) => (ago % 20) * 50),
        NOW,
      ),
    ).toBeNull();
  });

  it('needs samples in every minute', () => {
    expect(
      lagGrowing(
        samples(1, (ago) => 1000 - ago),
        NOW,
      ),
    ).toBeNull();
  });
});

describe('pipelineWarnings', () => {
  it('says nothing when all is well', () => {
    expect(ids({})).toEqual([]);
  });

  it('warns about an unassigned partition', () => {
    const w = pipelineWarnings({
      ...base,
      partitions: [...base.partitions, { topic: 't', partition: 1, assigned: false, lagEvents: null }],
    });
    expect(w.map((x) => x.id)).toEqual(['partition-unassigned']);
    expect(w[0]!.message).toContain('t/1');
  });

  it('warns when lag grew for minutes', () => {
    const lagHistory = samples(3, (ago) => 1000 - ago).map((s) => ({ tMs: s.tMs, lagByTopic: { t: s.lag } }));
    expect(ids({ lagHistory })).toEqual(['lag-growing']);
  });

  it('warns about stale checkpoints only while events wait', () => {
    expect(ids({ lastCheckpointAtMs: NOW - 120_000 })).toEqual([]);
    expect(
      ids({
        lastCheckpointAtMs: NOW - 120_000,
        partitions: [{ topic: 't', partition: 0, assigned: true, lagEvents: 5 }],
      }),
    ).toEqual(['checkpoints-stale']);
  });

  it('warns about a broker down and Kafka not answering', () => {
    expect(
      ids({
        brokers: [
          { address: 'a:1', up: true },
          { address: 'b:2', up: false },
        ],
      }),
    ).toEqual(['broker-down']);
    expect(ids({ brokers: null, kafkaError: 'timeout' })).toEqual(['kafka-unreachable']);
  });

  it('counts restarts of the last hour only', () => {
    expect(ids({ restartTimesMs: [NOW - 2 * 3_600_000] })).toEqual([]);
    const w = pipelineWarnings({ ...base, restartTimesMs: [NOW - 2 * 3_600_000, NOW - 60_000, NOW - 10_000] });
    expect(w.map((x) => x.id)).toEqual(['restarts']);
    expect(w[0]!.message).toMatch(/^2 restart/);
  });

  it('gives no ETL warnings when no ETL runs here', () => {
    expect(
      ids({
        etlRunning: false,
        partitions: [{ topic: 't', partition: 1, assigned: false, lagEvents: 9 }],
        lastCheckpointAtMs: 0,
      }),
    ).toEqual([]);
  });
});
