/**
 * A real `run` (producer threads, ETL, status page) reports where its memory goes
 * — the main thread and every producer thread — in /api/status (`memory`), on /metrics
 * (`sdp_memory_bytes`) and in the `memory` log line; and `data_generator.threads: auto` starts one
 * producer thread at the default rates while an explicit number is kept.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MemoryBreakdown } from '../../../src/status/memoryBreakdown.js';
import { etlEnv } from '../helpers/etlProcess.js';
import { createTestTopics } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { scrapeMetrics, sampleValue } from '../helpers/prometheusText.js';
import { CLI, PROJECT_ROOT } from '../helpers/projectRoot.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const MB = 1024 * 1024;

interface Started {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  exit: Promise<number | null>;
}

function startRun(env: Record<string, string>): Started {
  const child = spawn(process.execPath, [CLI, 'run'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let partial = '';
  const onData = (c: Buffer): void => {
    const parts = (partial + c.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as Record<string, unknown>);
      } catch {
        lines.push({ msg: p });
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, lines, exit };
}

async function statusMemory(
  port: number,
): Promise<{ memory?: MemoryBreakdown; producer?: { threads: number } } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/status`);
    return res.ok ? ((await res.json()) as { memory?: MemoryBreakdown; producer?: { threads: number } }) : undefined;
  } catch {
    return undefined;
  }
}

describe('the platform reports its memory per thread', () => {
  const logger = testLogger();
  const roots: string[] = [];
  const running: Started[] = [];

  afterAll(async () => {
    for (const r of running) {
      r.child.kill('SIGKILL');
      await r.exit;
    }
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  async function runAndRead(
    statusPort: number,
    extra: Record<string, string>,
  ): Promise<{
    status: { memory?: MemoryBreakdown; producer?: { threads: number } };
    run: Started;
    metricsText: Awaited<ReturnType<typeof scrapeMetrics>>;
  }> {
    const config = loadTestConfig();
    await createTestTopics(config, logger);
    const root = mkdtempSync(join(tmpdir(), 'sdp-mem-'));
    roots.push(root);
    const run = startRun(
      etlEnv(config, {
        lakeRoot: join(root, 'lake'),
        checkpointRoot: join(root, 'ck'),
        extra: {
          SDP_UI__STATUS_PORT: String(statusPort),
          SDP_UI__KAFKA_UI: 'off',
          SDP_DATA_GENERATOR__METRICS_INTERVAL: '2s',
          ...extra,
        },
      }),
    );
    running.push(run);
    let status: { memory?: MemoryBreakdown; producer?: { threads: number } } | undefined;
    // Each producer thread writes its row once it is connected; wait until every thread has.
    await waitFor(
      async () => {
        status = await statusMemory(statusPort);
        const threads = status?.producer?.threads;
        return (
          threads !== undefined &&
          (status?.memory?.threads.filter((t) => t.area.startsWith('producer_thread_')).length ?? 0) === threads
        );
      },
      60_000,
      'every producer thread in /api/status memory',
      500,
    );
    const metricsText = await scrapeMetrics(statusPort);
    await waitFor(
      () =>
        run.lines.some((l) => l.msg === 'memory' && Array.isArray(l.producer_threads) && l.producer_threads.length > 0),
      20_000,
      'a memory log line',
    );
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    return { status: status!, run, metricsText };
  }

  it('threads: auto starts one producer thread at the default rates; /api/status, /metrics and the log break the memory down', async () => {
    const { status, run, metricsText } = await runAndRead(20181, {});
    const memory = status.memory!;
    expect(status.producer!.threads).toBe(1);
    expect(memory.threads.map((t) => t.area)).toEqual(['main', 'producer_thread_0']);
    for (const t of memory.threads) {
      // A live V8 isolate: at least a few MB of heap, used ≤ total.
      expect(t.heapTotalBytes).toBeGreaterThan(2 * MB);
      expect(t.heapUsedBytes).toBeGreaterThan(1 * MB);
      expect(t.heapUsedBytes).toBeLessThanOrEqual(t.heapTotalBytes);
      expect(t.externalBytes).toBeGreaterThanOrEqual(t.arrayBuffersBytes);
    }
    // The producer thread's heap is its own, not the main thread's figure repeated.
    expect(memory.threads[1]!.heapTotalBytes).not.toBe(memory.threads[0]!.heapTotalBytes);
    expect(memory.rssBytes).toBeGreaterThan(memory.heapUsedBytes);
    expect(memory.heapTotalBytes).toBe(memory.threads[0]!.heapTotalBytes + memory.threads[1]!.heapTotalBytes);

    expect(sampleValue(metricsText, 'sdp_memory_bytes', { area: 'process', kind: 'rss' })).toBeGreaterThan(20 * MB);
    expect(sampleValue(metricsText, 'sdp_memory_bytes', { area: 'main', kind: 'heap_used' })).toBeGreaterThan(1 * MB);
    expect(
      sampleValue(metricsText, 'sdp_memory_bytes', { area: 'producer_thread_0', kind: 'heap_total' }),
    ).toBeGreaterThan(2 * MB);
    expect(
      sampleValue(metricsText, 'sdp_memory_bytes', { area: 'producer_thread_1', kind: 'heap_total' }),
    ).toBeUndefined();
    // The ETL of the same run reads through the lean fetch decoder, which left nothing to kafkajs.
    expect(sampleValue(metricsText, 'sdp_kafka_lean_decoder_fallbacks_total', {})).toBe(0);

    const started = run.lines.find((l) => l.msg === 'producer pool started');
    expect(started).toMatchObject({ threads: 1, threads_setting: 'auto' });
    const logged = run.lines.find(
      (l) => l.msg === 'memory' && Array.isArray(l.producer_threads) && l.producer_threads.length > 0,
    )!;
    expect(logged.rss_mb).toBeGreaterThan(20);
    expect(logged.main_heap_used_mb).toBeGreaterThan(1);
    expect(logged.producer_threads).toEqual([
      expect.objectContaining({
        slot: 0,
        heap_used_mb: expect.any(Number),
        heap_total_mb: expect.any(Number),
        array_buffers_mb: expect.any(Number),
      }),
    ]);
  }, 120_000);

  it('an explicit thread count is kept, and every thread reports its own heap', async () => {
    const { status } = await runAndRead(20183, { SDP_DATA_GENERATOR__THREADS: '3' });
    expect(status.producer!.threads).toBe(3);
    expect(status.memory!.threads.map((t) => t.area)).toEqual([
      'main',
      'producer_thread_0',
      'producer_thread_1',
      'producer_thread_2',
    ]);
    for (const t of status.memory!.threads) expect(t.heapTotalBytes).toBeGreaterThan(2 * MB);
  }, 120_000);
});
