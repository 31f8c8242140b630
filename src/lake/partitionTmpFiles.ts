/**
 * Lists the files of one input partition for its takeover (architecture.md, "Growing past one machine, and who
 * rewrites a partition's files"): its tmp files, whoever wrote them, and its committed files. Directory listings
 * only: no file is opened or stat'ed, so a takeover costs one readdir per dt directory of its tables.
 */
import path from 'node:path';
import { dirEntries } from './dirEntries.js';
import { TABLES_DIR } from './layout.js';
import { isPartitionTable, parsePartitionFileName } from './partitionFileName.js';
import type { TableName } from './tables.js';

export interface PartitionFiles {
  /** Lake-relative, `/`-separated, sorted. */
  tmpFiles: string[];
  finalFiles: string[];
}

const DT_DIR = /^dt=\d{4}-\d{2}-\d{2}$/;

export async function listPartitionFiles(
  lakeRoot: string,
  tables: readonly TableName[],
  topic: string,
  partition: number,
): Promise<PartitionFiles> {
  const tmpFiles: string[] = [];
  const finalFiles: string[] = [];
  for (const table of tables) {
    if (!isPartitionTable(table)) throw new RangeError(`${table} holds no input partition's files`);
    const tableDir = [TABLES_DIR, table].join('/');
    for (const dtDir of await dirEntries(path.join(lakeRoot, tableDir))) {
      if (!dtDir.isDirectory() || !DT_DIR.test(dtDir.name)) continue;
      const dir = `${tableDir}/${dtDir.name}`;
      for (const entry of await dirEntries(path.join(lakeRoot, dir))) {
        if (!entry.isFile()) continue;
        const name = parsePartitionFileName(`${dir}/${entry.name}`, topic, partition, tables);
        if (name) (name.tmp ? tmpFiles : finalFiles).push(name.path);
      }
    }
  }
  return { tmpFiles: tmpFiles.sort(), finalFiles: finalFiles.sort() };
}
