/**
 * The I/O of `verify`'s check of the sealed days (rule in manifestCheck.ts; architecture.md, "Sealed days"): every
 * `tables/<t>/dt=D/_manifest.json` read, the dt's committed files listed with their ctime, and each listed file that
 * is present read whole for its sha256 and its footer for its rows. A few files at a time.
 */
import path from 'node:path';
import { readManifest, sha256OfFile } from '../lake/dayManifestFile.js';
import { listDayFiles } from '../lake/dayFiles.js';
import { dirEntries } from '../lake/dirEntries.js';
import { partitionDir, TABLES_DIR } from '../lake/layout.js';
import type { TableName } from '../lake/tables.js';
import type { Finding } from './findings.js';
import { footerRowCount } from './footerRows.js';
import { judgeManifest, type Measured, type PresentFile } from './manifestCheck.js';

const READS_IN_FLIGHT = 4;
const DT_DIR = /^dt=(\d{4}-\d{2}-\d{2})$/;

export interface ManifestsOutcome {
  manifests: number;
  mismatches: number;
  pending: number;
  findings: Finding[];
}

async function presentFiles(dir: string): Promise<PresentFile[]> {
  return (await listDayFiles(dir)).map((f) => ({ path: f.path, bytes: f.bytes, changedMs: f.changedMs }));
}

export async function checkManifests(
  lakeRoot: string,
  tables: readonly TableName[],
  since: string | undefined,
  /** table → dts retention expired (lake/expiryRecord.ts): their files go one owner after another, the manifest last. */
  expiredDts: Readonly<Record<string, readonly string[]>> = {},
): Promise<ManifestsOutcome> {
  const outcome: ManifestsOutcome = { manifests: 0, mismatches: 0, pending: 0, findings: [] };
  for (const table of tables) {
    for (const dtDir of await dirEntries(path.join(lakeRoot, TABLES_DIR, table))) {
      const dt = DT_DIR.exec(dtDir.name)?.[1];
      if (!dtDir.isDirectory() || dt === undefined || (since !== undefined && dt < since)) continue;
      if (expiredDts[table]?.includes(dt)) continue;
      let onDisk: Awaited<ReturnType<typeof readManifest>>;
      try {
        onDisk = await readManifest(lakeRoot, table, dt);
      } catch (err) {
        outcome.manifests += 1;
        outcome.mismatches += 1;
        outcome.findings.push({
          kind: 'manifest_mismatch',
          table,
          files: [`${TABLES_DIR}/${table}/${dtDir.name}/_manifest.json`],
          message: err instanceof Error ? err.message : String(err),
        });
        continue;
      }
      if (onDisk === undefined) continue;
      outcome.manifests += 1;
      const dir = partitionDir(lakeRoot, table, dt);
      const present = await presentFiles(dir);
      const here = new Set(present.map((f) => f.path));
      const toRead = onDisk.manifest.entries.map((e) => e.path).filter((p) => here.has(p));
      const measured = new Map<string, Measured>();
      for (let i = 0; i < toRead.length; i += READS_IN_FLIGHT)
        await Promise.all(
          toRead.slice(i, i + READS_IN_FLIGHT).map(async (rel) => {
            const full = path.join(dir, rel);
            try {
              measured.set(rel, { rows: await footerRowCount(full), sha256: await sha256OfFile(full) });
            } catch (err) {
              measured.set(rel, { error: err instanceof Error ? err.message : String(err) });
            }
          }),
        );
      const verdict = judgeManifest({
        manifest: onDisk.manifest,
        manifestChangedMs: onDisk.changedMs,
        present,
        measured,
      });
      outcome.mismatches += verdict.mismatches;
      outcome.pending += verdict.pending;
      outcome.findings.push(...verdict.findings);
    }
  }
  return outcome;
}
