/**
 * Sealed days end to end (architecture.md, "Sealed days"): the real ETL writes the day before yesterday and the small
 * hours of yesterday in event time, `lake compact` merges the day, then `lake seal` writes a manifest per table that
 * equals what DuckDB reads of that day (rows, files, checksums). A late event for the sealed day lands once: `verify`
 * calls its file pending, the running ETL's sealer replaces the manifest, `/metrics` and `data stats --json` show one
 * late row, and a `lake seal` after that changes nothing. `verify` passes throughout; a manifest planted with a wrong row count fails it,
 * named.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { decodeManifest, type DayManifest } from '../../../src/lake/dayManifest.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { EtlProcess, etlEnv } from '../helpers/etlProcess.js';
import { clickEvent, iotEvent } from '../helpers/etlTestEvents.js';
import { runEtlToEnd } from '../helpers/etlToEnd.js';
import { createTestTopics, TestProducer } from '../helpers/kafkaTestData.js';
import { openLake, sqlString, type LakeReader } from '../helpers/lakeReader.js';
import { sampleValue, scrapeMetrics } from '../helpers/prometheusText.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { runCli, type CliResult } from '../helpers/runCli.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const TABLES = ['clickstream', 'iot', '_rejected', 'clickstream_agg'] as const;
const SUMMARY =
  /^verify: files=\d+ rows=\d+ gaps=0 overlaps=0 count_mismatches=0 windows=\d+ window_mismatches=0 unverifiable_ranges=\d+ expired_ranges=0 sealed_manifests=(\d+) manifest_mismatches=(\d+) manifest_pending=(\d+)$/m;

describe('sealed days', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-seal-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  const runId = randomName('seal');
  const random = mulberry32(Date.now() % 1_000_000);
  // The day before yesterday, 20:00 UTC, for 8 hours: into yesterday's small hours, in the past at any time of day.
  // The windows of yesterday up to 04:00 close, so the watermark bound passes the day's end + 1 h.
  const startMs = Date.now() - (Date.now() % DAY) - 2 * DAY + 20 * HOUR;
  const sealedDt = new Date(startMs).toISOString().slice(0, 10);
  const yesterday = new Date(startMs + DAY).toISOString().slice(0, 10);
  let config: Config;
  let env: Record<string, string>;
  let lake: LakeReader;
  let sent = 0;

  const cli = (args: string[]): Promise<CliResult> => runCli(args, env);
  const etlToEnd = (log: string) =>
    runEtlToEnd({ config, logger, env, checkpointRoot, logFile: join(dir, log), settleMs: 4_000 });
  const manifestFile = (table: string): string => join(lakeRoot, 'tables', table, `dt=${sealedDt}`, '_manifest.json');
  const manifest = (table: string): DayManifest => decodeManifest(readFileSync(manifestFile(table), 'utf8'));

  async function sendClicks(n: number, tsOf: (i: number) => number, extra: boolean): Promise<void> {
    const producer = new TestProducer(config, logger);
    await producer.connect();
    const partitions = config.kafka.partitions;
    try {
      await producer.send(config.topics.clickstream, [
        // Rejected records land in the dt of their Kafka timestamp: this one in the sealed day. First in partition 0,
        // so its offset lies in the range of a roll of the sealed day.
        ...(extra ? [{ partition: 0, key: 'bad-0', value: 'not json', timestampMs: startMs }] : []),
        ...Array.from(
          { length: n },
          (_, i) => clickEvent({ runId, index: sent + i, userCount: 80, partitions, tsMs: tsOf(i), random }).record,
        ),
      ]);
      if (extra)
        await producer.send(
          config.topics.iot,
          Array.from(
            { length: 200 },
            (_, i) => iotEvent({ index: i, devices: 16, partitions, tsMs: startMs + i * 1_000, random }).record,
          ),
        );
    } finally {
      await producer.disconnect();
    }
    sent += n;
  }

  async function verifyCounts(): Promise<{
    code: number | null;
    sealed: number;
    mismatches: number;
    pending: number;
    out: string;
  }> {
    const r = await cli(['verify']);
    const m = SUMMARY.exec(r.stdout);
    expect(m, `${r.stdout}\n${r.stderr}`).not.toBeNull();
    const [sealed, mismatches, pending] = m!.slice(1).map(Number) as [number, number, number];
    return { code: r.code, sealed, mismatches, pending, out: r.stdout };
  }

  beforeAll(async () => {
    config = loadTestConfig();
    mkdirSync(join(dir, 'run'), { recursive: true });
    env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        SDP_ETL__MAX_FILE_ROWS: '100',
        SDP_ETL__CHECKPOINT_INTERVAL: '1s',
        SDP_ETL__IDLE_TIMEOUT: '2s',
        SDP_ETL__WATERMARK_DELAY: '1s',
        SDP_LAKE__SEAL_AFTER: '1h',
        SDP_SERVICES__RUN_DIR: join(dir, 'run'),
      },
    });
    await createTestTopics(config, logger);
    // Three arrivals, each read to the end: the day gets a file per partition from each, so compaction has files to
    // merge beside the newest commit's (never merged).
    const tsOf = (i: number): number => startMs + Math.floor((i * 8 * HOUR) / 1_200);
    await sendClicks(150, tsOf, true);
    await etlToEnd('etl-1.log');
    await sendClicks(300, (i) => tsOf(150 + i), false);
    await etlToEnd('etl-2.log');
    await sendClicks(750, (i) => tsOf(450 + i), false);
    await etlToEnd('etl-3.log');
    lake = await openLake(lakeRoot);
  }, 600_000);

  afterAll(() => {
    lake?.close();
    if (process.env.SEAL_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    else logger.info({ dir }, 'kept');
  });

  it('waits for compaction, then seals the day: each manifest is what DuckDB reads of it', async () => {
    const early = await cli(['lake', 'seal']);
    expect(early.code, early.stderr).toBe(0);
    expect(early.stdout).toContain(`dt=${sealedDt} not sealable: not_compacted`);
    expect(early.stdout).toMatch(/^seal: days=0 sealed=0 /m);

    const compacted = await cli(['lake', 'compact']);
    expect(compacted.code, compacted.stderr).toBe(0);
    const dry = await cli(['lake', 'seal', '--dry-run']);
    expect(dry.stdout).toContain(`dt=${sealedDt} clickstream: would_seal`);
    expect(dry.stdout).toContain('(dry run: nothing written)');

    const sealed = await cli(['lake', 'seal']);
    expect(sealed.code, sealed.stderr).toBe(0);
    expect(sealed.stdout).toMatch(/^watermark bound: \d{4}-.*the newest minute_end in clickstream_agg/m);
    for (const table of TABLES) {
      expect(sealed.stdout).toContain(`dt=${sealedDt} ${table}: sealed`);
      const m = manifest(table);
      const glob = join(lakeRoot, 'tables', table, `dt=${sealedDt}`, '**', '*.parquet');
      const files = await lake.rows(
        `SELECT filename, count(*) AS n FROM read_parquet(${sqlString(glob)}, filename=true) GROUP BY filename`,
      );
      const prefix = join(lakeRoot, 'tables', table, `dt=${sealedDt}`) + '/';
      const read = Object.fromEntries(files.map((f) => [String(f.filename).slice(prefix.length), Number(f.n)]));
      expect(Object.fromEntries(m.entries.map((e) => [e.path, e.rows])), table).toEqual(read);
      expect(m.rows).toBe(Object.values(read).reduce((a, b) => a + b, 0));
      expect(m.files).toBe(files.length);
      expect(m.late_rows).toBe(0);
      for (const e of m.entries)
        expect(e.sha256).toBe(
          createHash('sha256')
            .update(readFileSync(join(prefix, e.path)))
            .digest('hex'),
        );
    }
    // The rejected record's offset lies in a clickstream range of the day.
    expect(manifest('clickstream').rejected_rows).toBe(1);
    // Yesterday is not sealed: the watermark is not past its end + 1 h.
    expect(sealed.stdout).toContain(`dt=${yesterday} not sealable: watermark_behind`);

    const v = await verifyCounts();
    expect(v).toMatchObject({ code: 0, sealed: 4, mismatches: 0, pending: 0 });
  }, 300_000);

  it('takes a late event in once: pending for verify, then the running ETL replaces the manifest and counts one late row', async () => {
    const before = manifest('clickstream');
    await sendClicks(1, () => startMs + HOUR, false);
    await etlToEnd('etl-late.log');

    const pending = await verifyCounts();
    expect(pending).toMatchObject({ code: 0, sealed: 4, mismatches: 0, pending: 1 });
    expect(pending.out).toMatch(/^manifest_pending clickstream: sealed dt=/m);

    // The running ETL's sealer (its first pass 30 s after the start) replaces the manifest, and /metrics shows it.
    const etl = EtlProcess.start(env, { logFile: join(dir, 'etl-sealer.log') });
    try {
      const port = await etl.statusPort();
      const replaced = await etl.waitForLog(
        (l) => l.msg === 'day manifest replaced' && l.table === 'clickstream' && l.dt === sealedDt,
        90_000,
        'the sealer to replace the manifest',
      );
      expect(replaced).toMatchObject({ component: 'sealer', late_rows: 1, late_rows_added: 1, revision: 2 });
      await waitFor(
        async () =>
          sampleValue(await scrapeMetrics(port), 'sdp_lake_late_rows', { table: 'clickstream', dt: sealedDt }) === 1,
        15_000,
        '/metrics to show the late row',
      );
    } finally {
      expect(await etl.terminate()).toEqual({ code: 0, signal: null });
    }
    const after = manifest('clickstream');
    expect(after).toMatchObject({ rows: before.rows + 1, late_rows: 1, revision: 2, sealed_at: before.sealed_at });
    const stats = await cli(['data', 'stats', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    const days = JSON.parse(stats.stdout).sealed_days as Array<{ dt: string; table: string; late_rows: number }>;
    expect(days.find((d) => d.dt === sealedDt && d.table === 'clickstream')?.late_rows).toBe(1);
    expect(days.find((d) => d.dt === sealedDt && d.table === 'iot')?.late_rows).toBe(0);

    // Counted once: the next pass writes nothing.
    const bytes = readFileSync(manifestFile('clickstream'), 'utf8');
    const again = await cli(['lake', 'seal']);
    expect(again.stdout).toContain(`dt=${sealedDt} clickstream: unchanged`);
    expect(readFileSync(manifestFile('clickstream'), 'utf8')).toBe(bytes);
    expect(await verifyCounts()).toMatchObject({ code: 0, sealed: 4, mismatches: 0, pending: 0 });
  }, 300_000);

  it('fails verify on a manifest that does not match its files, naming it', async () => {
    const good = readFileSync(manifestFile('iot'), 'utf8');
    const planted = JSON.parse(good) as DayManifest;
    planted.entries[0]!.rows += 1;
    writeFileSync(manifestFile('iot'), JSON.stringify(planted));
    try {
      const v = await verifyCounts();
      expect(v.code).toBe(1);
      expect(v.mismatches).toBe(1);
      expect(v.out).toContain(
        `manifest_mismatch iot offsets ${planted.entries[0]!.first}..${planted.entries[0]!.last}`,
      );
      expect(v.out).toContain(`tables/iot/dt=${sealedDt}/${planted.entries[0]!.path}`);
      expect(v.out).toMatch(/rows \d+, listed \d+/);
    } finally {
      writeFileSync(manifestFile('iot'), good);
    }
  }, 300_000);
});
