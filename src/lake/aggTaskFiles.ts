/**
 * Which `clickstream_agg` files belong to the stage-2 task of repartition partition r (architecture.md, "Windows
 * across members" and "Who rewrites a partition's files"):
 * `tables/clickstream_agg/dt=…/r<r>/part-<r>-<first>-<last>.parquet` as layout.ts names them (`aggTaskFilePath`), final
 * or tmp (`<final>.<writerId>.tmp`). The window aggregator's `part-<checkpointId>.parquet` and merged
 * `part-<firstId>-<lastId>.parquet` files (one or two numbers, lake/aggFileName.ts) belong to no task and never match:
 * a task's names have three. Directory listings only, as partitionTmpFiles.ts: no file is opened or stat'ed.
 */
import { listDtFiles } from './dirEntries.js';
import { aggTaskUnit, unhiddenTmpPath } from './layout.js';

export interface AggTaskFileName {
  /** As given, lake-relative. */
  path: string;
  dt: string;
  /** The repartition partition whose task wrote it. */
  partition: number;
  /** The commit's input offset range, canonical decimal (no zero padding). */
  first: string;
  last: string;
  tmp: boolean;
  /** The writer id a tmp name carries; null for a final file. */
  writer: string | null;
  /** The final path (lake-relative, `/`-separated): the path itself for a final file. */
  final: string;
}

// dt directory, dt, unit, task, first, last, writer of a tmp file. A final file is in its task's unit `r<r>` or, in a
// lake from before units, in the dt directory; a tmp file always in the dt directory (layout.ts).
const NAME = new RegExp(
  '^(tables/clickstream_agg/dt=(\\d{4}-\\d{2}-\\d{2}))/(?:([^/]+)/)?part-(0|[1-9]\\d{0,9})-(\\d{20})-(\\d{20})\\.parquet' +
    '(?:\\.([0-9a-f]{1,32})\\.tmp)?$',
);

/** The parts of a lake-relative path if it is a stage-2 task's file (of `partition`, when given); else undefined. */
export function parseAggTaskFileName(filePath: string, partition?: number): AggTaskFileName | undefined {
  // A hidden tmp name (`.part-…`) parses as the name it had before tmp files were hidden (layout.ts).
  const normalized = unhiddenTmpPath(filePath.split('\\').join('/'));
  const m = NAME.exec(normalized);
  if (!m) return undefined;
  const owner = Number(m[4]);
  if (owner > 0x7fffffff || (partition !== undefined && owner !== partition)) return undefined;
  const first = BigInt(m[5]!);
  const last = BigInt(m[6]!);
  if (first > last) return undefined;
  const writer = m[7] ?? null;
  const unit = aggTaskUnit(owner);
  // Only the task's own unit: a file elsewhere is not the task's (verify names it).
  if (m[3] !== undefined && (writer !== null || m[3] !== unit)) return undefined;
  const name = `part-${owner}-${m[5]}-${m[6]}.parquet`;
  return {
    path: filePath,
    dt: m[2]!,
    partition: owner,
    first: first.toString(),
    last: last.toString(),
    tmp: writer !== null,
    writer,
    final: writer === null ? normalized : `${m[1]}/${unit}/${name}`,
  };
}

export interface AggTaskFiles {
  /** Lake-relative, `/`-separated, sorted. */
  tmpFiles: string[];
  finalFiles: string[];
}

/** The files of task `partition`: its tmp files, whoever wrote them, and its committed ones. */
export async function listAggTaskFiles(lakeRoot: string, partition: number): Promise<AggTaskFiles> {
  const tmpFiles: string[] = [];
  const finalFiles: string[] = [];
  const own = aggTaskUnit(partition);
  for (const { files } of await listDtFiles(lakeRoot, 'clickstream_agg', (unit) => unit === own)) {
    for (const file of files) {
      const name = parseAggTaskFileName(file, partition);
      if (name) (name.tmp ? tmpFiles : finalFiles).push(name.path);
    }
  }
  return { tmpFiles: tmpFiles.sort(), finalFiles: finalFiles.sort() };
}
