/**
 * What the window stages hold once every member stopped (architecture.md, "Windows across members"), in the form the
 * chaos run's window check reads (`AggStateView`): the latest snapshots in `<group>-pv-state` as verify reads them
 * (verify/stageWindowState.ts: open windows, late page views), plus the stage-1 records of each repartition partition
 * committed after its snapshot's offset (read by kcat, read_committed), which no stage-2 task has applied yet: their
 * page views are neither emitted nor late, so they count as open.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src/config/schema.js';
import type { Logger } from '../../src/log/logger.js';
import { decodeRepartitionRecord, repartitionTopicName } from '../../src/windows/repartitionRecords.js';
import { readStageWindowState } from '../../src/verify/stageWindowState.js';
import type { AggStateView } from '../chaos/checkpointJournal.js';
import { readCommitted } from '../chaos/independentRead.js';

export interface Stage2View extends AggStateView {
  /** Repartition partitions (R) and the snapshots found. */
  partitions: number;
  snapshots: number;
  /** Stage-1 records after the snapshots (applied by no task yet) and their page views. */
  pendingRecords: number;
  pendingPageViews: number;
}

export async function readStage2View(
  config: Config,
  logger: Logger,
  bootstrap: string,
  partitions: number,
  workDir: string,
): Promise<Stage2View> {
  const group = config.etl.consumer_group;
  const stages = await readStageWindowState(config, logger, partitions, 60_000);
  const open = new Map<number, Map<string, number>>();
  const add = (startMs: number, url: string, count: number): void => {
    const byUrl = open.get(startMs) ?? new Map<string, number>();
    byUrl.set(url, (byUrl.get(url) ?? 0) + count);
    open.set(startMs, byUrl);
  };
  for (const w of stages?.openWindows ?? []) for (const c of w.counts) add(w.startMs, c.url, c.count);
  const file = path.join(workDir, 'repartition.ndjson');
  await readCommitted(bootstrap, repartitionTopicName(group), file, 300_000);
  let pendingRecords = 0;
  let pendingPageViews = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const { p, o, v } = JSON.parse(line) as { p: number; o: number; v: unknown };
    if (BigInt(o) <= (stages?.applied.get(p) ?? -1n)) continue;
    // kcat's line carries no key; a record's key is its source partition, which the value names too.
    const record = decodeRepartitionRecord(String((v as { sp: number }).sp), JSON.stringify(v));
    pendingRecords += 1;
    for (const w of record.windows)
      for (const c of w.counts) {
        add(w.startMs, c.url, c.count);
        pendingPageViews += c.count;
      }
  }
  rmSync(file, { force: true });
  return {
    lateEventsTotal: stages?.lateEventsTotal ?? 0,
    emittedFrontierMs: stages?.emittedFrontierMs ?? null,
    openWindows: [...open].map(([startMs, byUrl]) => ({
      startMs,
      counts: [...byUrl].map(([url, count]) => ({ url, count })),
    })),
    partitions,
    snapshots: stages?.snapshots ?? 0,
    pendingRecords,
    pendingPageViews,
  };
}
