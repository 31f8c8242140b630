/**
 * `services up` where no cluster answers: it starts the local brokers (its own three, on ports
 * 20092/20192/20292 with controllers on 20093/20193/20293 and data under /tmp, so the shared
 * cluster is never touched), then the platform; `ps` shows the brokers' pids; `logs --service
 * kafka-1` shows a broker's server log; `down` stops the platform and the brokers it started;
 * `clean` deletes the brokers' data and nothing else. Costs three JVMs and about a minute.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPidAlive, listProcesses } from '../../../src/system/processes.js';
import { readPidFile } from '../../../src/services/pidFile.js';
import { readRootMarker } from '../../../src/storage/rootMarker.js';
import { kcatMetadata } from '../helpers/kcat.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { runCli } from '../helpers/runCli.js';

const base = mkdtempSync(join(tmpdir(), 'sdp-services-own-'));
const kafkaDir = join(base, 'kafka');
const ports = [20092, 20192, 20292];
const env = {
  SDP_KAFKA__EXTERNAL_PORTS: ports.join(','),
  SDP_KAFKA__BOOTSTRAP_SERVERS: ports.map((p) => `127.0.0.1:${p}`).join(','),
  SDP_KAFKA__LOCAL__CONTROLLER_PORTS: '20093,20193,20293',
  SDP_KAFKA__LOCAL__DATA_DIR: kafkaDir,
  SDP_KAFKA__LOCAL__HEAP: '384m',
  SDP_STORAGE__DATALAKE_ROOT: join(base, 'lake'),
  SDP_STORAGE__CHECKPOINT_ROOT: join(base, 'checkpoints'),
  SDP_SERVICES__RUN_DIR: join(base, 'run'),
  SDP_UI__STATUS_PORT: '20083',
  SDP_DATA_GENERATOR__EVENTS_PER_SECOND__CLICKSTREAM: '20',
  SDP_DATA_GENERATOR__EVENTS_PER_SECOND__IOT: '10',
  SDP_DATA_GENERATOR__THREADS: '1',
};

function brokerPids(): number[] {
  return listProcesses()
    .filter((p) => p.commandLine.includes(`${kafkaDir}/node-`) && p.commandLine.includes('java'))
    .map((p) => p.pid);
}

describe('services up/down with brokers of its own (ports 20092/20192/20292)', () => {
  afterAll(async () => {
    await runCli(['services', 'down'], env);
    await runCli(['kafka', 'down'], env);
    rmSync(base, { recursive: true, force: true });
  });

  it('up starts the local brokers, says what it waits for, then the platform', async () => {
    const result = await runCli(['services', 'up'], env);
    expect(result.stderr).not.toMatch(/error SDP_ERR/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /Kafka: starting the local brokers on 127\.0\.0\.1:20092,127\.0\.0\.1:20192,127\.0\.0\.1:20292 \(.*waiting until all 3 brokers answer/,
    );
    expect(result.stdout).toMatch(/Kafka: local cluster ready, started nodes 1, 2, 3 in \d+\.\d s/);
    expect(result.stdout).toMatch(/platform: ready in/);
    console.info(`services up (own brokers, cold): ${result.elapsedMs} ms`);
    expect(brokerPids()).toHaveLength(3);
    expect(readRootMarker(kafkaDir)).toMatchObject({ status: 'ok', marker: { kind: 'kafka' } });
  });

  it('ps shows each broker with its pid, exit 0', async () => {
    const result = await runCli(['services', 'ps'], env);
    expect(result.code).toBe(0);
    const pids = brokerPids();
    for (const [i, port] of ports.entries()) {
      const row = result.stdout.split('\n').find((l) => l.startsWith(`kafka-${i + 1} `))!;
      expect(row).toMatch(new RegExp(`^kafka-${i + 1}\\s+${i + 1}\\s+${port}\\s+pid (\\d+)\\s+up\\s+0`));
      expect(pids).toContain(Number(/pid (\d+)/.exec(row)![1]));
    }
  });

  it("logs --service kafka-2 prints the broker's server log; an unknown service is a usage error", async () => {
    const result = await runCli(['services', 'logs', '--service', 'kafka-2', '--lines', '3', '--no-follow'], env);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.join('\n')).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] (INFO|WARN)/m);
    const bad = await runCli(['services', 'logs', '--service', 'kafka-9', '--no-follow'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown service kafka-9: expected platform, member-<i> or kafka-1 … kafka-3/);
  });

  it('down stops the platform and the brokers this up started', async () => {
    const platformPid = readPidFile(join(base, 'run'))!.pid;
    const result = await runCli(['services', 'down'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/platform: stopped after SIGTERM in \d+\.\d s, graceful shutdown/);
    // Every node stopped; one of the last two may be killed after the stop timeout when its controlled shutdown waits
    // for a controller quorum that is itself going (README, Troubleshooting: `make down` … `killing it`).
    expect(result.stdout).toMatch(/Kafka: local cluster stopped \(nodes 1, 2, 3(; killed after the timeout: [13])?\)/);
    expect(isPidAlive(platformPid)).toBe(false);
    expect(brokerPids()).toEqual([]);
    // The shared cluster of the other tests still runs.
    expect((await kcatMetadata(loadTestConfig().kafka.bootstrap_servers[0]!)).brokers).toHaveLength(3);
  });

  it("clean deletes the brokers' data and keeps the lake and the checkpoints", async () => {
    writeFileSync(join(base, 'lake', 'canary'), 'keep me');
    const result = await runCli(['services', 'clean'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Kafka: deleted ${kafkaDir}`);
    expect(existsSync(kafkaDir)).toBe(false);
    expect(existsSync(join(base, 'lake', 'canary'))).toBe(true);
    expect(existsSync(join(base, 'checkpoints', 'checkpoints.sqlite'))).toBe(true);
  });
});
