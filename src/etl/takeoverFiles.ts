/**
 * The file half of a takeover (architecture.md, "The takeover order"), shared by the raw partitions' and the window
 * stage's: complete the renames the last commit named, then delete the other tmp files of the partition that were
 * written before this takeover's fence. A takeover that ran slow, during which the group moved the partition on,
 * must not delete the next owner's first roll (written after its own, later fence); a later zombie's tmp file is
 * deleted by that zombie when its commit is fenced, or by the next takeover.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Rename } from '../checkpoint/checkpointState.js';
import { completeRename, removeIfExists } from '../lake/durableFs.js';
import { type ExpiryRecord, inExpiredDt } from '../lake/expiryRecord.js';
import { readExpiryRecord } from '../lake/expiryRecordFile.js';
import { unhiddenTmpPath } from '../lake/layout.js';
import type { Logger } from '../log/logger.js';

export interface TakeoverFileCounts {
  renamed: number;
  /** Committed files neither tmp nor final: logged as errors (retention, or lost data). */
  missing: number;
  /** Committed files neither tmp nor final in a dt retention expired: deleted on purpose. */
  expired: number;
  deleted: number;
  /** Tmp files written after the fence, left alone. */
  kept: number;
}

export async function applyTakeoverFiles(options: {
  lakeRoot: string;
  renames: readonly Rename[];
  deletes: readonly string[];
  /** Wall clock right after the fence (InitProducerId). */
  fencedAtMs: number;
  logger: Logger;
  /** Log fields naming the partition. */
  where: Record<string, unknown>;
}): Promise<TakeoverFileCounts> {
  const { lakeRoot, logger, where } = options;
  const counts: TakeoverFileCounts = { renamed: 0, missing: 0, expired: 0, deleted: 0, kept: 0 };
  let expiry: ExpiryRecord | undefined;
  let expiryRead = false;
  for (const { from, to } of options.renames) {
    let outcome = await completeRename(join(lakeRoot, from), join(lakeRoot, to));
    // A commit made before tmp files were hidden: its tmp file has the old name (lake/layout.ts).
    if (outcome === 'missing' && unhiddenTmpPath(from) !== from)
      outcome = await completeRename(join(lakeRoot, unhiddenTmpPath(from)), join(lakeRoot, to));
    if (outcome === 'renamed') counts.renamed += 1;
    else if (outcome === 'missing') {
      // An idle partition's last commit may name files of a dt its owner expired since (architecture.md, "Keeping
      // the lake: retention"): deleted on purpose, not lost.
      if (!expiryRead) {
        expiry = readExpiryRecord(lakeRoot);
        expiryRead = true;
      }
      if (inExpiredDt(expiry, to)) {
        counts.expired += 1;
        logger.info({ ...where, from, to }, 'a committed file was expired by retention since its commit');
        continue;
      }
      counts.missing += 1;
      logger.error({ ...where, from, to }, 'a committed file is missing: neither its tmp nor its final');
    }
  }
  for (const tmp of options.deletes) {
    const modifiedMs = await stat(join(lakeRoot, tmp)).then(
      (st) => st.mtimeMs,
      () => undefined,
    );
    if (modifiedMs === undefined) continue;
    if (modifiedMs > options.fencedAtMs) counts.kept += 1;
    else if (await removeIfExists(join(lakeRoot, tmp))) counts.deleted += 1;
  }
  if (counts.kept > 0) logger.info({ ...where, tmp_kept: counts.kept }, 'tmp files written after the fence kept');
  return counts;
}
