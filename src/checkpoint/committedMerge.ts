/**
 * A merge a committed offset names (`m` of an input partition's or a stage-2 task's commit metadata), found by the
 * next owner with its merged tmp file still there (architecture.md, "Compaction"): what its takeover plan hands to the
 * completion (etl/mergeCompletion.ts through etl/ownerCompaction.ts `completeCommittedMerge`).
 */
export interface CommittedMerge {
  /** The merged range (offsets, decimal): the unit's files inside it are the merge's inputs. */
  first: string;
  last: string;
  /** Lake-relative: the merged tmp file (kept by the takeover's clean-up) and the unit that gets the merged file. */
  tmpPath: string;
  unitDir: string;
  mergedName: string;
}
