/**
 * checkpointer: the event-sourced commit point of the checkpoint protocol (architecture.md, "The checkpoint protocol").
 *
 * - `commit` (query, from a lake writer or the window aggregator): persists the CheckpointEvent —
 *   one SQLite transaction, the commit point — then applies its tmp→final renames (idempotent) and
 *   replies. `onCommitted` then tells the ingest actors what is durable, for the advisory Kafka
 *   offset commit. A crash before the persist loses nothing (the tmp files are orphans and the
 *   offsets were not advanced); a crash after it is repaired by `recoverLake` at the next start.
 * - `recoverLake` (query, once at start, before any partition is read): re-applies the renames of
 *   each sink's latest checkpoint and deletes every `*.tmp` that no committed checkpoint names.
 * - `read` (query): the current CheckpointState (offsets per sink, aggregator states).
 *
 * Recovery of the actor itself is nact's: latest snapshot + journal replay of CheckpointEvents.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inExpiredDt } from '../lake/expiryRecord.js';
import { readExpiryRecord } from '../lake/expiryRecordFile.js';
import {
  applyCheckpoint,
  emptyCheckpointState,
  pendingRenames,
  type CheckpointEvent,
  type CheckpointState,
  type Rename,
} from '../checkpoint/checkpointState.js';
import type { Logger } from '../log/logger.js';
import { listTmpFiles, removeIfExists, renameDurable } from '../lake/durableFs.js';
import { hitFault } from '../system/faults.js';
import { tmpStoreId } from '../lake/layout.js';
import { reply, spawnPersistent, type AnyRef, type PersistentContext, type Ref } from '../system/nact.js';

import { CHECKPOINTER_PERSISTENCE_KEY } from '../checkpoint/journalSchema.js';
import { markRetriable } from '../errors.js';
export type CheckpointerMsg =
  /** `generation`: the sender's ETL generation; a commit of another one is discarded (default 0). */
  | { type: 'commit'; event: CheckpointEvent; generation?: number }
  | { type: 'recoverLake' }
  | { type: 'read' }
  /** Replayed from the journal during recovery only. */
  | CheckpointEvent;

export interface CommitReply {
  checkpoints: number;
}

export interface LakeRecovery {
  renamed: number;
  deletedTmpFiles: string[];
}

export interface CheckpointerOptions {
  lakeRoot: string;
  logger: Logger;
  snapshotEvery: number;
  /** `durationMs`: the commit point itself (journal transaction and renames). */
  onCommitted?: (event: CheckpointEvent, state: CheckpointState, durationMs?: number) => void;
  /**
   * The ETL generation this checkpointer serves (default 0). An in-process restart spawns a new
   * checkpointer under the same name; a commit still on its way from the torn-down generation
   * must not be journalled (its tmp files may be gone, its offsets are being re-read).
   */
  generation?: number;
  /** This store's id: recovery deletes uncommitted tmp files of this store only (and legacy ones without an id). */
  storeId?: string;
}

async function applyRenames(
  lakeRoot: string,
  renames: readonly Rename[],
  betweenRenames?: () => void,
): Promise<number> {
  let renamed = 0;
  for (const { from, to } of renames) {
    if (renamed > 0) betweenRenames?.();
    await renameDurable(join(lakeRoot, from), join(lakeRoot, to));
    renamed += 1;
  }
  return renamed;
}

export function spawnCheckpointer(
  parent: AnyRef,
  options: CheckpointerOptions,
  name = 'checkpointer',
): Ref<CheckpointerMsg> {
  const generation = options.generation ?? 0;
  const logger = options.logger.child({ component: 'checkpointer', generation });

  const behaviour = async (
    state: CheckpointState,
    msg: CheckpointerMsg,
    ctx: PersistentContext<CheckpointerMsg>,
  ): Promise<CheckpointState> => {
    switch (msg.type) {
      case 'raw':
      case 'agg':
        // A journal event being replayed: the commit it records already happened.
        return applyCheckpoint(state, msg);
      case 'commit': {
        if ((msg.generation ?? 0) !== generation) {
          // No reply: the sender belongs to a torn-down ETL and nobody waits for it.
          logger.warn(
            { sink: msg.event.sink, msg_generation: msg.generation ?? 0, files: msg.event.renames.length },
            'commit of another generation discarded',
          );
          return state;
        }
        const startedMs = Date.now();
        const next = applyCheckpoint(state, msg.event); // validates before anything is written
        await ctx.persist(msg.event as CheckpointerMsg);
        const raw = msg.event.type === 'raw';
        if (msg.event.renames.length > 0)
          hitFault(raw ? 'after-commit-before-rename' : 'after-window-checkpoint-before-rename');
        await applyRenames(options.lakeRoot, msg.event.renames, raw ? () => hitFault('between-renames') : undefined);
        logger.debug(
          { sink: msg.event.sink, checkpoints: next.checkpoints, files: msg.event.renames.length },
          'checkpoint committed',
        );
        reply<CommitReply>(ctx, { checkpoints: next.checkpoints });
        options.onCommitted?.(msg.event, next, Date.now() - startedMs);
        return next;
      }
      case 'recoverLake': {
        // A rename into a dt retention deleted, with both of its files gone, was deleted on purpose, not lost
        // (architecture.md, "Keeping the lake: retention"); a rename whose tmp file is there is applied as always.
        const expiry = readExpiryRecord(options.lakeRoot);
        const expiredRenames = pendingRenames(state).filter(
          (r) =>
            inExpiredDt(expiry, r.to) &&
            !existsSync(join(options.lakeRoot, r.from)) &&
            !existsSync(join(options.lakeRoot, r.to)),
        );
        const renames = pendingRenames(state).filter((r) => !expiredRenames.includes(r));
        const committedTmp = new Set(renames.map((r) => join(options.lakeRoot, r.from)));
        const renamed = await applyRenames(options.lakeRoot, renames);
        const deletedTmpFiles: string[] = [];
        let otherStores = 0;
        for (const tmp of await listTmpFiles(options.lakeRoot)) {
          if (committedTmp.has(tmp)) continue;
          // Another store's tmp file may be a roll in flight in another process sharing the lake.
          const owner = tmpStoreId(tmp);
          if (owner !== null && owner !== options.storeId) {
            otherStores += 1;
            continue;
          }
          await removeIfExists(tmp);
          deletedTmpFiles.push(tmp);
        }
        logger.info(
          {
            checkpoints: state.checkpoints,
            renames_reapplied: renamed,
            orphan_tmp_deleted: deletedTmpFiles.length,
            expired_renames_skipped: expiredRenames.length,
            other_stores_tmp_kept: otherStores,
            store_id: options.storeId,
          },
          'lake recovered from the checkpoint store',
        );
        reply<LakeRecovery>(ctx, { renamed, deletedTmpFiles });
        return state;
      }
      case 'read':
        reply<CheckpointState>(ctx, state);
        return state;
    }
  };

  return spawnPersistent<CheckpointState, CheckpointerMsg>(parent, behaviour, CHECKPOINTER_PERSISTENCE_KEY, name, {
    initialState: emptyCheckpointState(),
    snapshotEvery: options.snapshotEvery,
    onCrash: (_msg, err, ctx) => {
      // The journal is the truth: a failed commit must stop the pipeline, which restarts from it.
      logger.error({ err }, 'checkpointer failed');
      // Retriable: the supervisor restarts the ETL from the last checkpoint (architecture.md, "Supervision").
      markRetriable(err);
      return ctx.escalate;
    },
  });
}
