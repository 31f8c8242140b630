/**
 * An ETL restart end to end at the actor level: the real checkpointer (SQLite), two real lake
 * writers and the real window aggregator. A failure hits while both writers' rolls and a window
 * checkpoint are in flight (the checkpointer dies, so their commits are never answered); the ETL
 * is torn down and started again in the same process, under the same actor names, as the
 * supervisor does. The old generation's commit timeouts land while the new one works. Afterwards
 * the lake and the journal must be exact: every offset once, every closed window once.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnCheckpointer, type CheckpointerMsg, type LakeRecovery } from '../../../src/actors/checkpointer.js';
import { spawnLakeWriter, type LakeWriterMsg, type WriterFlushReply } from '../../../src/actors/lakeWriter.js';
import {
  spawnWindowAggregator,
  type AggregatorBatchReply,
  type AggregatorFlushReply,
  type WindowAggregatorMsg,
} from '../../../src/actors/windowAggregator.js';
import {
  aggSinkId,
  rawSinkId,
  sinkOffset,
  type CheckpointEvent,
  type CheckpointState,
} from '../../../src/checkpoint/checkpointState.js';
import { SqlitePersistenceEngine } from '../../../src/checkpoint/sqlitePersistenceEngine.js';
import type { ClickstreamRow } from '../../../src/events/types.js';
import { createEncoderPool, type EncoderPool } from '../../../src/lake/encoderPool.js';
import { dispatch, query, stop, type Ref, type SystemRef } from '../../../src/system/nact.js';
import { M, makeBatch, SIZE_MS } from '../windows/fixtures.js';
import { listFiles, openReader, readRows, type Reader } from './fakes/lakeFiles.js';
import { cleanUp, newSystem, onCleanUp, silentLogger, sleep, tempDir } from './fakes/testKit.js';

let reader: Reader;
beforeAll(async () => {
  reader = await openReader();
});
afterAll(() => reader.close());
afterEach(cleanUp);

const TOPIC = 'clickstream';
const PARTITIONS = [0, 1];
const AGG_SINK = aggSinkId(TOPIC);
const Q_MS = 5_000;
/** Commits of the torn-down generation time out this long after they were sent: inside the new one. */
const COMMIT_TIMEOUT_MS = 400;
const DELAY_MS = 10_000;
const url = (offset: number): string => `/u${offset % 3}`;
const tsOf = (offset: number): number => M + offset * 1_000;

function click(partition: number, offset: number): ClickstreamRow {
  return {
    event_id: `p${partition}-${offset}`,
    user_id: `u-${offset % 5}`,
    url: url(offset),
    referrer: null,
    ua: 'Mozilla/5.0',
    tsMs: tsOf(offset),
  };
}

const range = (first: number, last: number): number[] => Array.from({ length: last - first + 1 }, (_, i) => first + i);

interface Generation {
  checkpointer: Ref<CheckpointerMsg>;
  writers: Map<number, Ref<LakeWriterMsg>>;
  aggregator: Ref<WindowAggregatorMsg>;
  pool: EncoderPool;
}

/** What `startEtl` does, for one generation: recover the lake, read the store, spawn the sinks. */
async function startGeneration(
  system: SystemRef,
  lakeRoot: string,
  generation: number,
): Promise<Generation & { recovery: LakeRecovery; state: CheckpointState }> {
  const checkpointer = spawnCheckpointer(system, { lakeRoot, logger: silentLogger, snapshotEvery: 4, generation });
  const recovery = await query<CheckpointerMsg, LakeRecovery>(checkpointer, () => ({ type: 'recoverLake' }), Q_MS);
  const state = await query<CheckpointerMsg, CheckpointState>(checkpointer, () => ({ type: 'read' }), Q_MS);
  const pool = createEncoderPool({ threads: 0 });
  onCleanUp(() => pool.close());
  const writers = new Map(
    PARTITIONS.map((p) => [
      p,
      spawnLakeWriter(
        system,
        {
          table: 'clickstream',
          topic: TOPIC,
          partition: p,
          lakeRoot,
          committedOffset: sinkOffset(state, rawSinkId(TOPIC, p), p),
          encoderPool: pool,
          encoder: 'hyparquet-writer',
          checkpointer,
          maxFileRows: 1_000_000,
          maxFileBytes: 1 << 30,
          maxFileAgeMs: 3_600_000,
          maxFileIdleMs: 3_600_000,
          rowGroupRows: 1_000,
          commitTimeoutMs: COMMIT_TIMEOUT_MS,
          logger: silentLogger,
          onDrained: () => undefined,
          generation,
        },
        `lake-writer-clickstream-${p}`,
      ),
    ]),
  );
  const restored = state.aggregators[AGG_SINK];
  const aggregator = spawnWindowAggregator(
    system,
    {
      sink: AGG_SINK,
      topic: TOPIC,
      lakeRoot,
      windows: { sizeMs: SIZE_MS, watermarkDelayMs: DELAY_MS, idleTimeoutMs: Infinity },
      ...(restored ? { restored } : {}),
      checkpointIntervalMs: 3_600_000,
      encoderPool: pool,
      encoder: 'hyparquet-writer',
      checkpointer,
      rowGroupRows: 1_000,
      commitTimeoutMs: COMMIT_TIMEOUT_MS,
      logger: silentLogger,
      generation,
    },
    'window-aggregator',
  );
  dispatch(aggregator, { type: 'assign', partitions: PARTITIONS });
  return { checkpointer, writers, aggregator, pool, recovery, state };
}

/** What a partition actor does with one fetched batch of offsets [first, last] of `partition`. */
async function feed(g: Generation, generation: number, partition: number, first: number, last: number): Promise<void> {
  const offsets = range(first, last);
  await query(
    g.writers.get(partition)!,
    () => ({
      type: 'append' as const,
      generation,
      firstOffset: String(first),
      lastOffset: String(last),
      rows: offsets.map((o) => click(partition, o)),
      rejected: [],
    }),
    Q_MS,
  );
  await query<WindowAggregatorMsg, AggregatorBatchReply>(
    g.aggregator,
    () => ({
      type: 'batch',
      generation,
      batch: makeBatch(partition, last, { events: offsets.map((o) => [tsOf(o), url(o)] as const) }),
    }),
    Q_MS,
  );
}

describe('in-process ETL restart with rolls and a window checkpoint in flight', () => {
  it('leaves an exact lake and journal: every offset once, every closed window once', async () => {
    const dir = tempDir('sdp-etl-restart-');
    const lakeRoot = join(dir, 'lake');
    const engine = new SqlitePersistenceEngine(join(dir, 'checkpoints', 'checkpoints.sqlite'), {
      synchronous: 'NORMAL',
    });
    onCleanUp(() => engine.close());
    const system = newSystem(engine);

    // Generation 1: offsets 0..99 of both partitions, committed.
    const g1 = await startGeneration(system, lakeRoot, 1);
    for (const p of PARTITIONS) await feed(g1, 1, p, 0, 99);
    for (const p of PARTITIONS)
      expect(await query<LakeWriterMsg, WriterFlushReply>(g1.writers.get(p)!, () => ({ type: 'flush' }), Q_MS)).toEqual(
        { committedOffset: '99' },
      );
    expect(
      (await query<WindowAggregatorMsg, AggregatorFlushReply>(g1.aggregator, () => ({ type: 'flush' }), Q_MS)).seq,
    ).toBe(1);

    // Then 100..199 of both; the checkpointer fails; both rolls and a window checkpoint start now
    // and their commits are never answered.
    for (const p of PARTITIONS) await feed(g1, 1, p, 100, 199);
    stop(g1.checkpointer);
    for (const ref of [...g1.writers.values(), g1.aggregator])
      dispatch(ref as Ref<{ type: 'flush' }>, { type: 'flush' });
    await sleep(50); // encoded as tmp files, commits sent to no one

    // The supervisor tears the ETL down and starts it again: same names, a new generation.
    for (const ref of [...g1.writers.values(), g1.aggregator]) stop(ref);
    await sleep(30);
    const g2 = await startGeneration(system, lakeRoot, 2);
    expect(g2.recovery.deletedTmpFiles.length).toBe(3); // the two rolls' and the checkpoint's tmp files
    for (const p of PARTITIONS) expect(sinkOffset(g2.state, rawSinkId(TOPIC, p), p)).toBe('99');
    // Replays from offset 100; the old generation's commit timeouts (400 ms) and retries (500 ms)
    // fall while it works.
    for (const p of PARTITIONS) await feed(g2, 2, p, 100, 149);
    for (const p of PARTITIONS) dispatch(g2.writers.get(p)!, { type: 'flush' });
    await sleep(COMMIT_TIMEOUT_MS + 600);
    for (const p of PARTITIONS) await feed(g2, 2, p, 150, 299);
    for (const p of PARTITIONS)
      expect(await query<LakeWriterMsg, WriterFlushReply>(g2.writers.get(p)!, () => ({ type: 'flush' }), Q_MS)).toEqual(
        { committedOffset: '299' },
      );
    await query<WindowAggregatorMsg, AggregatorFlushReply>(g2.aggregator, () => ({ type: 'flush' }), Q_MS);
    await sleep(1_000); // anything else of generation 1 would have landed by now
    const final = await query<CheckpointerMsg, CheckpointState>(g2.checkpointer, () => ({ type: 'read' }), Q_MS);

    // The journal: raw offsets strictly increase per partition (nothing journalled twice), the
    // aggregator's seq too, and the store ends at offset 299 everywhere.
    const events = engine.events('checkpointer').map((e) => e.data as CheckpointEvent);
    for (const p of PARTITIONS) {
      const offsets = events
        .filter((e) => e.type === 'raw' && e.partition === p)
        .map((e) => Number((e as { offset: string }).offset));
      expect(offsets).toEqual([99, 149, 299]);
    }
    const seqs = events.filter((e) => e.type === 'agg').map((e) => (e as { seq: number }).seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(final.offsets[AGG_SINK]).toEqual({ '0': '299', '1': '299' });

    // The lake: every offset of every partition once; no tmp file left.
    const files = await listFiles(lakeRoot);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const ids: string[] = [];
    for (const f of files.filter((f) => f.startsWith('tables/clickstream/'))) {
      for (const row of await readRows(reader, join(lakeRoot, f), 'clickstream')) ids.push(row.event_id as string);
    }
    const expectedIds = PARTITIONS.flatMap((p) => range(0, 299).map((o) => `p${p}-${o}`));
    expect(ids.sort()).toEqual(expectedIds.sort());

    // The windows: closed ones (end <= 289 s, the watermark) once each, with the views of both partitions.
    const agg: Array<[number, string, number]> = [];
    for (const f of files.filter((f) => f.startsWith('tables/clickstream_agg/'))) {
      for (const row of await readRows(reader, join(lakeRoot, f), 'clickstream_agg'))
        agg.push([row.minute_start as number, row.url as string, row.pv as number]);
    }
    const expectedAgg: Array<[number, string, number]> = [];
    for (let start = 0; start + 60 <= 289; start += 60) {
      for (const u of ['/u0', '/u1', '/u2'])
        expectedAgg.push([M + start * 1_000, u, 2 * range(start, start + 59).filter((o) => url(o) === u).length]);
    }
    const byKey = (a: [number, string, number], b: [number, string, number]): number =>
      a[0] - b[0] || a[1].localeCompare(b[1]);
    expect(agg.sort(byKey)).toEqual(expectedAgg.sort(byKey));
  });
});
