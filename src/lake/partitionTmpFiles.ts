/**
 * Lists the files of one input partition for its takeover (architecture.md, "Growing past one machine, and who
 * rewrites a partition's files"): its tmp files, whoever wrote them, and its committed files. Directory listings
 * only: no file is opened or stat'ed, so a takeover costs one readdir per dt directory of its tables and per unit of its own.
 */
import { listDtFiles } from './dirEntries.js';
import { rawUnit, rejectedUnit } from './layout.js';
import { isPartitionTable, parsePartitionFileName } from './partitionFileName.js';
import type { TableName } from './tables.js';

export interface PartitionFiles {
  /** Lake-relative, `/`-separated, sorted. */
  tmpFiles: string[];
  finalFiles: string[];
}

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
    const own = table === '_rejected' ? rejectedUnit(topic, partition) : rawUnit(partition);
    for (const { files } of await listDtFiles(lakeRoot, table, (unit) => unit === own)) {
      for (const file of files) {
        const name = parsePartitionFileName(file, topic, partition, tables);
        if (name) (name.tmp ? tmpFiles : finalFiles).push(name.path);
      }
    }
  }
  return { tmpFiles: tmpFiles.sort(), finalFiles: finalFiles.sort() };
}
