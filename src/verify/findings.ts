/**
 * What `verify` reports (architecture.md, "Verifying the lake"): one finding per problem, each
 * naming the table, file, partition and offsets it is about, and the counts of the summary line.
 * Pure: the rules and the I/O modules produce findings, this module names and counts them.
 */

/**
 * `note`s explain what could not be compared, `expired` names ranges retention deleted on purpose
 * (architecture.md, "Keeping the lake: retention"), `manifest_pending` a file a sealed day's next manifest takes in
 * (architecture.md, "Sealed days"); none fails the run.
 */
export type FindingKind =
  | 'gap'
  | 'overlap'
  | 'count_mismatch'
  | 'window_mismatch'
  | 'footer_unreadable'
  | 'tmp_left_behind'
  | 'unknown_file'
  | 'wrong_unit'
  | 'kafka_range'
  | 'manifest_mismatch'
  | 'manifest_pending'
  | 'note'
  | 'expired';

export interface Finding {
  kind: FindingKind;
  /** Lake table, or the topic's raw table. */
  table?: string;
  topic?: string;
  partition?: number;
  /** Inclusive offsets, decimal. */
  first?: string;
  last?: string;
  /** Paths relative to the lake root. */
  files?: string[];
  message: string;
}

export function isFailure(finding: Finding): boolean {
  return finding.kind !== 'note' && finding.kind !== 'expired' && finding.kind !== 'manifest_pending';
}

/** One line: kind, where (table, topic[partition], offsets), what, and the files named. */
export function formatFinding(f: Finding): string {
  const where: string[] = [];
  if (f.table !== undefined) where.push(f.table);
  if (f.topic !== undefined) where.push(f.partition === undefined ? f.topic : `${f.topic}[${f.partition}]`);
  if (f.first !== undefined && f.last !== undefined) where.push(`offsets ${f.first}..${f.last}`);
  const files = f.files && f.files.length > 0 ? ` (${f.files.join(', ')})` : '';
  return `${f.kind}${where.length > 0 ? ` ${where.join(' ')}` : ''}: ${f.message}${files}`;
}
