/**
 * up / down / status / clean of a second local cluster, on its own ports and data dir, so that stopping
 * it leaves the shared cluster of the other tests alone. Costs three more JVMs (384 MB heap each)
 * and about half a minute.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { listProcesses } from '../../../src/system/processes.js';
import { kcatMetadata } from '../helpers/kcat.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { runCli } from '../helpers/runCli.js';

const dataDir = mkdtempSync(join(tmpdir(), 'sdp-kafka-lifecycle-'));
// Below Linux's ephemeral range (32768-60999): an outgoing connection never borrows these ports.
const ports = [19192, 19292, 19392];
const controllerPorts = [19193, 19293, 19393];
const env = {
  SDP_KAFKA__EXTERNAL_PORTS: ports.join(','),
  SDP_KAFKA__BOOTSTRAP_SERVERS: ports.map((p) => `127.0.0.1:${p}`).join(','),
  SDP_KAFKA__LOCAL__CONTROLLER_PORTS: controllerPorts.join(','),
  SDP_KAFKA__LOCAL__DATA_DIR: dataDir,
  SDP_KAFKA__LOCAL__HEAP: '384m',
};

/** Java processes whose command line names this data dir: brokers or storage formatting. */
function javaProcessesOfDataDir(): number[] {
  return listProcesses()
    .filter((p) => p.commandLine.includes(`${dataDir}/node-`) && p.commandLine.includes('java'))
    .map((p) => p.pid);
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, () => resolve(server));
  });
}

describe('local cluster lifecycle (second cluster on ports 19192/19292/19392)', () => {
  afterAll(async () => {
    await runCli(['kafka', 'down'], env);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses to start when a port is taken, naming the port and its process', async () => {
    const server = await occupy(19293);
    try {
      const result = await runCli(['kafka', 'up'], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(ErrorCodes.LOCAL_KAFKA_PORT_TAKEN);
      expect(result.stderr).toMatch(
        /port 19293 \(controller port of local Kafka node 2\) is already taken by \S+ \(pid \d+\)/,
      );
      expect(result.stderr).toContain(`(pid ${process.pid})`);
      expect(javaProcessesOfDataDir()).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('starts three brokers that kcat lists', async () => {
    const result = await runCli(['kafka', 'up'], env);
    expect(result.stderr).not.toMatch(/error SDP_ERR/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /ready: 3 brokers on 127\.0\.0\.1:19192,127\.0\.0\.1:19292,127\.0\.0\.1:19392; started nodes 1, 2, 3/,
    );
    console.info(
      `second cluster: kafka up (new data dir; class path from the user cache unless it is the first) took ${result.elapsedMs} ms`,
    );

    const metadata = await kcatMetadata('127.0.0.1:19192');
    expect(metadata.brokers.map((b) => b.name).sort()).toEqual([
      '127.0.0.1:19192',
      '127.0.0.1:19292',
      '127.0.0.1:19392',
    ]);
    expect(javaProcessesOfDataDir()).toHaveLength(3);
    for (const node of [1, 2, 3]) expect(existsSync(join(dataDir, `node-${node}`, 'logs', 'server.log'))).toBe(true);
  });

  it('leaves a running cluster alone on a second `up`', async () => {
    const pidsBefore = javaProcessesOfDataDir().sort();
    const result = await runCli(['kafka', 'up'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/already running/);
    expect(javaProcessesOfDataDir().sort()).toEqual(pidsBefore);
  });

  it('after a run, stops every broker of its data dir and only those, each finishing its controlled shutdown', async () => {
    // A run first: topics, transactions and consumer offsets give every node leaderships to hand over.
    const topics = { SDP_TOPICS__CLICKSTREAM: 'lifecycle-click', SDP_TOPICS__IOT: 'lifecycle-iot' };
    expect((await runCli(['topics', 'create'], { ...env, ...topics })).code).toBe(0);
    const generated = await runCli(['generate', '--count', '2000', '--clickstream-rate', '0', '--iot-rate', '0'], {
      ...env,
      ...topics,
    });
    expect(generated.code, generated.stderr).toBe(0);
    const logSizes = [1, 2, 3].map((n) => statSync(join(dataDir, `node-${n}`, 'logs', 'server.log')).size);

    const result = await runCli(['kafka', 'down'], env);
    expect(result.code).toBe(0);
    // One node alone, then the last majority with the active controller: nobody is left without a quorum.
    expect(result.stdout).toMatch(
      /stopped \(nodes 1, 2, 3\): node (\d), then nodes (\d) and (\d) together \((\d) the active controller\)/,
    );
    expect(result.stdout).not.toMatch(/killed/);
    expect(result.stderr).not.toMatch(/did not stop in time/);
    // Each broker logged the end of its shutdown after this `down` began.
    for (const [i, node] of [1, 2, 3].entries()) {
      const log = readFileSync(join(dataDir, `node-${node}`, 'logs', 'server.log'), 'utf8').slice(logSizes[i]);
      expect(log, `node ${node}`).toMatch(/\[BrokerServer id=\d\] shut down completed/);
      expect(log, `node ${node}`).not.toMatch(/Timed out waiting for the controller to approve controlled shutdown/);
    }
    console.info(`second cluster: kafka down took ${result.elapsedMs} ms`);
    expect(javaProcessesOfDataDir()).toEqual([]);
    for (const node of [1, 2, 3]) expect(existsSync(join(dataDir, `node-${node}`, 'kafka.pid'))).toBe(false);
    // The shared cluster of the other tests still runs.
    expect((await kcatMetadata(loadTestConfig().kafka.bootstrap_servers[0]!)).brokers).toHaveLength(3);
  });

  it('`down` on a stopped cluster exits 0, `status` exits 1', async () => {
    const down = await runCli(['kafka', 'down'], env);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/not running/);
    const status = await runCli(['kafka', 'status'], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/^1\s+-\s+no\s+19192\s+no/m);
    expect(status.stderr).toContain(ErrorCodes.LOCAL_KAFKA_NOT_READY);
  });

  it('refuses storage formatted for another cluster id, pointing at make kafka-clean', async () => {
    const result = await runCli(['kafka', 'up'], { ...env, SDP_KAFKA__CLUSTER_ID: 'MkU3OEVBNTcwNTJENDM2Qg' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(ErrorCodes.LOCAL_KAFKA_START);
    expect(result.stderr).toMatch(
      /formatted for cluster id qZanELgsau7iUtmb-1hAvw, not kafka.cluster_id MkU3OEVBNTcwNTJENDM2Qg/,
    );
    expect(result.stderr).toContain('make kafka-clean');
    expect(javaProcessesOfDataDir()).toEqual([]);
  });

  it('reports a broker that dies at start with the end of its output', async () => {
    const result = await runCli(['kafka', 'up'], { ...env, SDP_KAFKA__LOCAL__HEAP: '1m' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(ErrorCodes.LOCAL_KAFKA_START);
    expect(result.stderr).toMatch(/died while the cluster was starting/);
    expect(result.stderr).toMatch(/Too small (initial|maximum) heap/);
    expect(result.elapsedMs).toBeLessThan(60_000);
    await runCli(['kafka', 'down'], env);
    expect(javaProcessesOfDataDir()).toEqual([]);
  });

  it('`clean` deletes the data dir', async () => {
    const clean = await runCli(['kafka', 'clean'], env);
    expect(clean.code).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
  });
});
