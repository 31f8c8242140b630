/**
 * Replaces the checkpoint store by one that holds the same durable offsets and window state but
 * no pending renames: what `data clean --lake --force` leaves behind, so the next start does not
 * try to re-apply renames of files that were deleted on purpose. Written through the same engine
 * as the checkpointer's journal (one event per sink, sequence 1..n).
 */
import { rmSync } from 'node:fs';
import { PersistedEvent } from 'nact/lib/persistence/index.js';
import { CHECKPOINTER_PERSISTENCE_KEY } from './journalSchema.js';
import type { AggCheckpoint, CheckpointState, RawCheckpoint } from './checkpointState.js';
import { SqlitePersistenceEngine } from './sqlitePersistenceEngine.js';
import { storeFiles } from './storeReader.js';

/** The events that rebuild `state`'s offsets and aggregator states, without renames. Pure. */
export function eventsKeepingOffsets(state: CheckpointState): Array<RawCheckpoint | AggCheckpoint> {
  const events: Array<RawCheckpoint | AggCheckpoint> = [];
  for (const [sink, byPartition] of Object.entries(state.offsets).sort(([a], [b]) => a.localeCompare(b))) {
    const raw = /^raw:(.+):(\d+)$/.exec(sink);
    if (raw) {
      const partition = Number(raw[2]);
      const offset = byPartition[partition];
      if (offset !== undefined)
        events.push({ type: 'raw', sink, topic: raw[1]!, partition, offset, renames: [], rows: 0, rejected: 0 });
      continue;
    }
    const agg = /^agg:(.+)$/.exec(sink);
    const restored = state.aggregators[sink];
    if (agg && restored)
      events.push({
        type: 'agg',
        sink,
        topic: agg[1]!,
        seq: restored.seq,
        offsets: { ...byPartition },
        state: restored.state,
        renames: [],
        rows: 0,
      });
  }
  return events;
}

export async function rewriteStoreKeepingOffsets(file: string, state: CheckpointState): Promise<number> {
  for (const f of storeFiles(file)) rmSync(f, { force: true });
  const engine = new SqlitePersistenceEngine(file);
  try {
    const events = eventsKeepingOffsets(state);
    let seq = 0;
    for (const event of events) {
      seq += 1;
      await engine.persist(new PersistedEvent(event, seq, CHECKPOINTER_PERSISTENCE_KEY, [], Date.now()));
    }
    return events.length;
  } finally {
    engine.close();
  }
}
