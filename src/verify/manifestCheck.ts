/**
 * A day's manifest against its files (architecture.md, "Sealed days" and "Verifying the lake"). Pure: the facts in,
 * findings out.
 *
 * - A listed file missing, or one whose bytes, rows or sha256 differ: `manifest_mismatch`, a failure.
 * - A file present but not listed, whose name appeared after the manifest: `manifest_pending`, not a failure (a late
 *   file, or a merged one; the sealer's next pass takes it in). A listed file gone whose rows such a file holds (its
 *   writer's range contains it: compaction after the seal) is pending too.
 * - A file not listed whose name is older than the manifest: `manifest_mismatch` (the seal missed it, or it was put
 *   there by hand with its times kept).
 */
import { nameFacts, type DayManifest } from '../lake/dayManifest.js';
import type { Finding } from './findings.js';

/** A committed file of the dt now. */
export interface PresentFile {
  /** dt-relative, as the manifest lists it. */
  path: string;
  bytes: number;
  /** When its name last changed (ctime: a rename or link sets it), epoch ms. */
  changedMs: number;
}

export type Measured = { rows: number; sha256: string } | { error: string };

export interface ManifestCheckInput {
  manifest: DayManifest;
  /** When the manifest's own name appeared (ctime), epoch ms. */
  manifestChangedMs: number;
  present: readonly PresentFile[];
  /** Rows and sha256 of the listed files that are present. */
  measured: ReadonlyMap<string, Measured>;
}

export interface ManifestVerdict {
  findings: Finding[];
  mismatches: number;
  pending: number;
}

/**
 * A file's name appears a moment before the manifest that lists it is renamed in (the sealer lists, reads, lists
 * again, then writes): only a name older by more than this is one the seal should have listed.
 */
export const MANIFEST_SLACK_MS = 5_000;

export function judgeManifest(input: ManifestCheckInput): ManifestVerdict {
  const { manifest, present, measured } = input;
  const where = `tables/${manifest.table}/dt=${manifest.dt}`;
  const findings: Finding[] = [];
  let mismatches = 0;
  let pending = 0;
  const mismatch = (message: string, files: string[], range?: { first: string; last: string }): void => {
    mismatches += 1;
    findings.push({
      kind: 'manifest_mismatch',
      table: manifest.table,
      ...(range ? { first: range.first, last: range.last } : {}),
      files: files.map((f) => `${where}/${f}`),
      message: `sealed dt=${manifest.dt} (manifest revision ${manifest.revision}): ${message}`,
    });
  };
  const listed = new Set(manifest.entries.map((e) => e.path));
  const unlisted = present.filter((f) => !listed.has(f.path));
  const isNew = (f: PresentFile): boolean => f.changedMs >= input.manifestChangedMs - MANIFEST_SLACK_MS;
  const newer = unlisted.filter(isNew);
  const byPath = new Map(present.map((f) => [f.path, f]));

  for (const entry of manifest.entries) {
    const file = byPath.get(entry.path);
    if (!file) {
      const owner = nameFacts(manifest.table, entry.path)?.owner;
      const holder = newer.find((f) => {
        const facts = nameFacts(manifest.table, f.path);
        return (
          facts !== undefined &&
          facts.owner === owner &&
          BigInt(facts.first) <= BigInt(entry.first) &&
          BigInt(facts.last) >= BigInt(entry.last)
        );
      });
      if (holder === undefined) mismatch('a listed file is missing', [entry.path], entry);
      continue;
    }
    const m = measured.get(entry.path);
    const problems: string[] = [];
    if (file.bytes !== entry.bytes) problems.push(`bytes ${file.bytes}, listed ${entry.bytes}`);
    if (m === undefined || 'error' in m) problems.push(`unreadable: ${m === undefined ? 'not read' : m.error}`);
    else {
      if (m.rows !== entry.rows) problems.push(`rows ${m.rows}, listed ${entry.rows}`);
      if (m.sha256 !== entry.sha256) problems.push(`sha256 ${m.sha256}, listed ${entry.sha256}`);
    }
    if (problems.length > 0) mismatch(problems.join('; '), [entry.path], entry);
  }
  for (const f of unlisted) {
    if (!isNew(f)) {
      mismatch('a file older than the manifest is not listed', [f.path]);
      continue;
    }
    pending += 1;
    findings.push({
      kind: 'manifest_pending',
      table: manifest.table,
      files: [`${where}/${f.path}`],
      message: `sealed dt=${manifest.dt}: a file newer than its manifest (late, or merged after the seal); the sealer's next pass takes it in`,
    });
  }
  return { findings, mismatches, pending };
}
