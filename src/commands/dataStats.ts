/**
 * `data stats`: what the lake, the checkpoint store and the topics hold, read fast — row counts
 * and event-time ranges from the Parquet footers, offsets from the store and the cluster. Only
 * `_rejected.reason` is read from the data, to count rejected rows by reason.
 */
import { join, resolve } from 'node:path';
import { durableOffset } from '../checkpoint/checkpointState.js';
import { readCheckpointStore } from '../checkpoint/storeReader.js';
import type { Config } from '../config/schema.js';
import { sinksOfPartition, STREAMS } from '../platform/etlRuntime.js';
import { fetchTopicRanges, type TopicRanges } from '../kafka/admin/topicEnds.js';
import { windowTopicNames, type WindowTopicRole } from '../kafka/admin/windowTopics.js';
import { listLakeFiles } from '../lake/lakeFiles.js';
import { sealedDays, type SealedDayStats } from '../lake/lakeStats.js';
import { tableDir } from '../lake/layout.js';
import { readWithStableUnits } from '../lake/unitVersions.js';
import { countColumnValues, readFooterSummary } from '../lake/parquetFooter.js';
import { TABLE_NAMES, type TableName } from '../lake/tables.js';
import type { Logger } from '../log/logger.js';
import { CHECKPOINT_FILE } from '../platform/supervisor.js';
import { renderTable } from '../system/textTable.js';
import { withWindowsModeResolved, type ResolvedConfig } from '../etl/windowsModeCheck.js';
import type { WindowsMode } from '../etl/windowsMode.js';

/** The mode to count by when `auto` cannot ask Kafka: the raw sinks alone, as members mode. */
function undecidedAs(config: Config): WindowsMode {
  return config.etl.windows === 'process' ? 'process' : 'members';
}

export interface TableStats {
  table: TableName;
  dt_partitions: number;
  files: number;
  /** Uncommitted `*.tmp` files (a running platform's roll in flight, or leftovers of a crash). */
  tmp_files: number;
  rows: number;
  bytes: number;
  /** ISO-8601 UTC; null for an empty table. */
  min_event_time: string | null;
  max_event_time: string | null;
}

export interface OffsetStats {
  topic: string;
  partition: number;
  /** Last offset durable in every sink of the partition; null: nothing yet. */
  durable_offset: number | null;
  log_end_offset: number | null;
  /** Records not yet durable: log end − (durable + 1); null when the end is unknown. */
  lag: number | null;
}

/** One of the window stages' internal topics of etl.consumer_group (architecture.md, "Windows across members"). */
export interface InternalTopicStats {
  topic: string;
  role: WindowTopicRole;
  /** null when Kafka did not answer. */
  exists: boolean | null;
  partitions: number | null;
  /** Σ (log end − log start) over its partitions: records, or for the compacted state topic an upper bound. */
  offsets: number | null;
}

export interface DataStats {
  lake_root: string;
  tables: TableStats[];
  rejected_by_reason: Record<string, number>;
  /** Per sealed day and table: its manifest's rows and the rows that landed after the seal (architecture.md, "Sealed days"). */
  sealed_days: SealedDayStats[];
  checkpoints: {
    file: string;
    exists: boolean;
    size_bytes: number;
    journal_events: number;
    snapshots: number;
    checkpoints: number;
    last_checkpoint: string | null;
  };
  offsets: OffsetStats[];
  internal_topics: InternalTopicStats[];
  /** Why log end offsets are missing (Kafka unreachable), else null. */
  kafka_error: string | null;
}

/** The column whose footer statistics give each table's event-time range. */
const TIME_COLUMN: Record<TableName, string> = {
  clickstream: 'ts',
  iot: 'ts',
  clickstream_agg: 'minute_start',
  _rejected: 'kafka_ts',
};

const FOOTER_READS_IN_FLIGHT = 8;

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * Read again when a unit was swapped meanwhile (architecture.md, "Compaction"): the owners compact while the platform
 * runs, and a file listed before a swap is gone from its unit when its footer is read.
 */
export async function collectDataStats(config: Config, logger: Logger): Promise<DataStats> {
  const lakeRoot = resolve(config.storage.datalake_root);
  const tableDirs = TABLE_NAMES.map((table) => tableDir(lakeRoot, table));
  return (await readWithStableUnits(tableDirs, () => collectDataStatsOnce(config, logger))).value;
}

async function collectDataStatsOnce(config: Config, logger: Logger): Promise<DataStats> {
  const lakeRoot = resolve(config.storage.datalake_root);
  const files = listLakeFiles(lakeRoot);
  const tables: TableStats[] = [];
  const rejectedByReason: Record<string, number> = {};
  for (const table of TABLE_NAMES) {
    const mine = files.filter((f) => f.path.startsWith(`tables/${table}/dt=`));
    const finals = mine.filter((f) => f.path.endsWith('.parquet'));
    const stats: TableStats = {
      table,
      dt_partitions: 0,
      files: finals.length,
      tmp_files: mine.filter((f) => f.path.endsWith('.tmp')).length,
      rows: 0,
      bytes: 0,
      min_event_time: null,
      max_event_time: null,
    };
    const dts = new Set<string>();
    let minMs: number | undefined;
    let maxMs: number | undefined;
    // A few footers at a time: each read is a small seek at the end of a file.
    for (let i = 0; i < finals.length; i += FOOTER_READS_IN_FLIGHT) {
      await Promise.all(
        finals.slice(i, i + FOOTER_READS_IN_FLIGHT).map(async (file) => {
          dts.add(file.path.split('/')[2]!);
          stats.bytes += file.sizeBytes;
          const summary = await readFooterSummary(join(lakeRoot, file.path), TIME_COLUMN[table]);
          stats.rows += summary.rows;
          if (summary.minMs !== undefined) minMs = Math.min(minMs ?? Infinity, summary.minMs);
          if (summary.maxMs !== undefined) maxMs = Math.max(maxMs ?? -Infinity, summary.maxMs);
          if (table === '_rejected') {
            for (const [reason, n] of await countColumnValues(join(lakeRoot, file.path), 'reason'))
              rejectedByReason[reason] = (rejectedByReason[reason] ?? 0) + n;
          }
        }),
      );
    }
    stats.dt_partitions = dts.size;
    stats.min_event_time = iso(minMs);
    stats.max_event_time = iso(maxMs);
    tables.push(stats);
  }

  const store = readCheckpointStore(join(resolve(config.storage.checkpoint_root), CHECKPOINT_FILE));
  const topics = STREAMS.map((s) => config.topics[s]);
  const internal = windowTopicNames(config.etl.consumer_group);
  let ranges: TopicRanges = new Map();
  let kafkaError: string | null = null;
  try {
    ranges = await fetchTopicRanges(config, logger, [...topics, internal.repartition, internal.state]);
  } catch (err) {
    kafkaError = err instanceof Error ? err.message : String(err);
  }
  const ends = new Map(
    [...ranges].map(([topic, partitions]) => [
      topic,
      partitions && new Map([...partitions].map(([p, r]) => [p, r.end])),
    ]),
  );
  // Which sinks make a partition durable depends on where the windows run: `auto` asks the group, as the ETL does,
  // once Kafka answered above; undecided, the raw sinks alone count (members' rule) and the log says so.
  const sinksConfig: ResolvedConfig = await withWindowsModeResolved(
    kafkaError === null ? config : { ...config, etl: { ...config.etl, windows: undecidedAs(config) } },
    logger,
    'debug',
    store.file,
  ).catch((err: unknown) => {
    logger.warn({ err }, 'etl.windows: auto undecided (Kafka did not say): durable offsets count the raw sinks only');
    return { ...config, etl: { ...config.etl, windows: undecidedAs(config) } };
  });
  const offsets: OffsetStats[] = [];
  for (const stream of STREAMS) {
    const topic = config.topics[stream];
    const topicEnds = ends.get(topic);
    const partitions = new Set<number>(topicEnds ? [...topicEnds.keys()] : []);
    for (const sink of Object.keys(store.state.offsets)) {
      const m = new RegExp(`^raw:${topic.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)$`).exec(sink);
      if (m) partitions.add(Number(m[1]));
    }
    for (const partition of [...partitions].sort((a, b) => a - b)) {
      const durable = BigInt(durableOffset(store.state, sinksOfPartition(sinksConfig, stream, partition), partition));
      const end = topicEnds?.get(partition);
      offsets.push({
        topic,
        partition,
        durable_offset: durable < 0n ? null : Number(durable),
        log_end_offset: end === undefined ? null : Number(end),
        lag: end === undefined ? null : Number(end - (durable + 1n)),
      });
    }
  }
  if (kafkaError === null) {
    const missing = topics.filter((t) => ends.get(t) === undefined);
    if (missing.length > 0)
      kafkaError = `topic${missing.length === 1 ? '' : 's'} ${missing.join(', ')} do${missing.length === 1 ? 'es' : ''} not exist`;
  }
  const internalTopics = (['repartition', 'state'] as const).map((role): InternalTopicStats => {
    const topic = internal[role];
    const partitions = ranges.get(topic);
    const known = kafkaError === null || ranges.has(topic);
    return {
      topic,
      role,
      exists: known ? partitions !== undefined : null,
      partitions: partitions ? partitions.size : null,
      offsets: partitions ? Number([...partitions.values()].reduce((sum, r) => sum + (r.end - r.start), 0n)) : null,
    };
  });
  return {
    lake_root: lakeRoot,
    tables,
    rejected_by_reason: Object.fromEntries(Object.entries(rejectedByReason).sort(([a], [b]) => a.localeCompare(b))),
    sealed_days: await sealedDays(lakeRoot),
    checkpoints: {
      file: store.file,
      exists: store.exists,
      size_bytes: store.sizeBytes,
      journal_events: store.journalEvents,
      snapshots: store.snapshots,
      checkpoints: store.state.checkpoints,
      last_checkpoint: iso(store.lastCheckpointMs),
    },
    offsets,
    internal_topics: internalTopics,
    kafka_error: kafkaError,
  };
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

const dash = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));

export function renderDataStats(s: DataStats, nowMs: number = Date.now()): string {
  const out: string[] = [];
  out.push(`lake ${s.lake_root}`);
  out.push(
    renderTable(
      ['table', 'dt partitions', 'files', 'rows', 'size', 'min event time', 'max event time', 'tmp files'],
      s.tables.map((t) => [
        t.table,
        String(t.dt_partitions),
        String(t.files),
        t.rows.toLocaleString('en-US'),
        bytes(t.bytes),
        dash(t.min_event_time),
        dash(t.max_event_time),
        String(t.tmp_files),
      ]),
    ),
  );
  const reasons = Object.entries(s.rejected_by_reason);
  out.push(
    '',
    reasons.length === 0
      ? 'rejected rows: none'
      : `rejected rows by reason\n${renderTable(
          ['reason', 'rows'],
          reasons.map(([r, n]) => [r, String(n)]),
        )}`,
  );
  out.push(
    '',
    s.sealed_days.length === 0
      ? 'sealed days: none'
      : `sealed days (late rows: landed after the seal)\n${renderTable(
          ['dt', 'table', 'rows', 'files', 'late rows', 'revision', 'sealed at'],
          s.sealed_days.map((d) => [
            d.dt,
            d.table,
            d.rows.toLocaleString('en-US'),
            String(d.files),
            d.late_rows.toLocaleString('en-US'),
            String(d.revision),
            d.sealed_at,
          ]),
        )}`,
  );
  const c = s.checkpoints;
  const age = c.last_checkpoint
    ? ` (${Math.max(0, Math.round((nowMs - Date.parse(c.last_checkpoint)) / 1000))} s ago)`
    : '';
  out.push(
    '',
    c.exists
      ? `checkpoint store ${c.file}: ${bytes(c.size_bytes)}, ${c.checkpoints} checkpoints (${c.journal_events} journal events, ${c.snapshots} snapshots), last ${dash(c.last_checkpoint)}${age}`
      : `checkpoint store ${c.file}: none yet`,
  );
  out.push(
    '',
    renderTable(
      ['topic', 'partition', 'durable offset', 'log end offset', 'lag'],
      s.offsets.map((o) => [o.topic, String(o.partition), dash(o.durable_offset), dash(o.log_end_offset), dash(o.lag)]),
    ),
  );
  out.push(
    '',
    "the window stages' internal topics",
    renderTable(
      ['topic', 'role', 'partitions', 'offsets (end − start)'],
      s.internal_topics.map((t) => [
        t.topic,
        t.role,
        t.exists === false ? 'does not exist' : dash(t.partitions),
        dash(t.offsets),
      ]),
    ),
  );
  if (s.kafka_error) out.push(`log end offsets unavailable: ${s.kafka_error}`);
  return out.join('\n');
}
