/**
 * A secured cluster end to end. One `kafka up --secure` cluster (SASL_SSL client
 * listener with SCRAM, a mutual-TLS listener on port + 2, SASL/PLAIN over TLS on port + 3, private
 * CA) on its own ports 27092/27192/27292 and a /tmp data dir, started once for the file and stopped
 * after. Proves: topics create, generate (transactional producers) and etl exactly once against it,
 * through each of the three listeners; `make up` proves the login before anything else connects; a
 * wrong password, an untrusted CA, a wrong-host and an expired certificate each end in a one-line
 * error that says which, fast; and the password appears in no output channel of a full run at
 * debug level.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { ErrorCodes } from '../../../src/errors.js';
import { probeBrokerMetadata } from '../../../src/kafka/wire/brokerMetadataProbe.js';
import { createClusterBrowser } from '../../../src/kafka/browser/clusterBrowser.js';
import { fetchTopicId } from '../../../src/kafka/wire/topicId.js';
import { connectionSecurity } from '../../../src/kafka/security.js';
import { describeTransaction } from '../../../src/kafka/wire/transactionState.js';
import { etlEnv, EtlProcess } from '../helpers/etlProcess.js';
import { endOffsets } from '../helpers/kafkaTestData.js';
import { openLake } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { runCli, type CliResult } from '../helpers/runCli.js';
import { runMake } from '../helpers/runMake.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const dir = mkdtempSync(join(tmpdir(), 'sdp-kafka-secured-'));
const dataDir = join(dir, 'kafka');
const tlsDir = join(dataDir, 'tls');
const ports = [27092, 27192, 27292];
const controllerPorts = [27093, 27193, 27293];
const UNREACHABLE_TIMEOUT_MS = 20_000;
const COUNT = 3_000;
const clusterEnv: Record<string, string> = {
  SDP_KAFKA__EXTERNAL_PORTS: ports.join(','),
  SDP_KAFKA__BOOTSTRAP_SERVERS: ports.map((p) => `127.0.0.1:${p}`).join(','),
  SDP_KAFKA__LOCAL__CONTROLLER_PORTS: controllerPorts.join(','),
  SDP_KAFKA__LOCAL__DATA_DIR: dataDir,
  SDP_KAFKA__LOCAL__HEAP: '384m',
  SDP_KAFKA__UNREACHABLE_TIMEOUT: `${UNREACHABLE_TIMEOUT_MS}ms`,
  SDP_LOG__FORMAT: 'json',
};
const topics = { clickstream: randomName('sec-click'), iot: randomName('sec-iot') };
const group = randomName('sec-etl');

let up: CliResult;
let password = '';

/** The client settings `kafka up --secure` prints, as SDP_* variables, the password from the environment. */
function secureEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...clusterEnv,
    SDP_KAFKA__SSL__CA_FILE: join(tlsDir, 'ca.crt'),
    SDP_KAFKA__SASL__MECHANISM: 'scram-sha-512',
    SDP_KAFKA__SASL__USERNAME: 'sdp',
    SDP_KAFKA__SASL__PASSWORD: password,
    SDP_TOPICS__CLICKSTREAM: topics.clickstream,
    SDP_TOPICS__IOT: topics.iot,
    SDP_ETL__CONSUMER_GROUP: group,
    ...extra,
  };
}

function withoutCa(env: Record<string, string>): Record<string, string> {
  const { SDP_KAFKA__SSL__CA_FILE: _ca, ...rest } = env;
  return rest;
}

/** The test's own view of the secured cluster, for kafkajs admin calls. */
function secureConfig(): Config {
  return loadTestConfig({
    kafka: {
      external_ports: ports,
      bootstrap_servers: ports.map((p) => `127.0.0.1:${p}`),
      ssl: { ca_file: join(tlsDir, 'ca.crt') },
      sasl: { mechanism: 'scram-sha-512', username: 'sdp', password },
      local: { controller_ports: controllerPorts, data_dir: dataDir },
    },
    topics,
    etl: { consumer_group: group },
  });
}

function openssl(args: string[]): void {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
}

/** A certificate for the broker key, signed by the cluster's CA, with other names or dates. */
function signedCertificate(name: string, ext: string, days: number): string {
  const extFile = join(dir, `${name}.ext`);
  const cert = join(dir, `${name}.crt`);
  writeFileSync(extFile, `${ext}\n`);
  openssl([
    'x509',
    '-req',
    '-in',
    join(tlsDir, 'broker.csr'),
    '-CA',
    join(tlsDir, 'ca.crt'),
    '-CAkey',
    join(tlsDir, 'ca.key'),
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    String(days),
    '-extfile',
    extFile,
  ]);
  return readFileSync(cert, 'utf8');
}

/** A TLS server that presents `cert` and never answers: the client must fail in the handshake. */
function fakeBroker(cert: string): Promise<{ server: TlsServer; port: number }> {
  const server = createTlsServer(
    {
      key: readFileSync(join(tlsDir, 'broker.key')),
      cert: [cert, readFileSync(join(tlsDir, 'ca.crt'), 'utf8')].join('\n'),
    },
    (socket) => socket.on('error', () => undefined),
  );
  server.on('tlsClientError', () => undefined);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })),
  );
}

/** One error line naming the code, no stack trace, no password, exit 1 within the unreachable timeout. */
function expectSecurityError(result: CliResult, code: string, message: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  const errorLines = result.stderr.split('\n').filter((l) => l.startsWith('error '));
  expect(errorLines).toHaveLength(1);
  expect(errorLines[0]).toContain(code);
  expect(errorLines[0]).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.elapsedMs).toBeLessThan(UNREACHABLE_TIMEOUT_MS);
  if (password) expect(result.stdout + result.stderr).not.toContain(password);
}

/** Topics create, generate, then etl until the lake holds every acknowledged event, with `env`. */
async function platformThrough(name: string, env: Record<string, string>): Promise<{ produced: number; lake: number }> {
  const own = {
    ...env,
    SDP_TOPICS__CLICKSTREAM: randomName(`${name}-click`),
    SDP_TOPICS__IOT: randomName(`${name}-iot`),
    SDP_ETL__CONSUMER_GROUP: randomName(`${name}-etl`),
  };
  const created = await runCli(['topics', 'create'], own);
  expect(created.code, created.stderr).toBe(0);
  const generated = await runCli(['generate', '--count', '600', '--clickstream-rate', '0', '--iot-rate', '0'], own);
  expect(generated.code, generated.stderr).toBe(0);
  const summary = /"clickstream_total":(\d+),"iot_total":(\d+)/.exec(generated.stdout + generated.stderr);
  expect(summary, 'generate prints its producer summary').not.toBeNull();
  const produced = { clickstream: Number(summary![1]), iot: Number(summary![2]) };
  const lakeRoot = join(dir, `lake-${name}`);
  const etl = EtlProcess.start(
    {
      ...own,
      SDP_STORAGE__DATALAKE_ROOT: lakeRoot,
      SDP_STORAGE__CHECKPOINT_ROOT: join(dir, `checkpoints-${name}`),
      SDP_UI__STATUS_PORT: '0',
      SDP_ETL__MAX_FILE_AGE: '2s',
    },
    { logFile: join(dir, `etl-${name}.log`) },
  );
  let inLake = 0;
  try {
    const lake = await openLake(lakeRoot);
    const count = (table: string) => lake.scalar(`SELECT count(*) FROM ${lake.table(table)}`).catch(() => 0);
    try {
      await waitFor(
        async () => {
          if (!etl.running) throw new Error(`etl exited early:\n${etl.tail(30)}`);
          // One read of each table for both the figure returned and the condition: a second read could see rows
          // the first did not, and the test would then return a count older than the one that ended the wait.
          const [clicks, readings] = [await count('clickstream'), await count('iot')];
          inLake = clicks + readings;
          return clicks >= produced.clickstream && readings >= produced.iot;
        },
        180_000,
        `the lake to hold every event produced through ${name}`,
        1_000,
      );
    } finally {
      lake.close();
    }
    expect((await etl.terminate()).code).toBe(0);
  } finally {
    if (etl.running) await etl.kill9();
  }
  return { produced: produced.clickstream + produced.iot, lake: inLake };
}

describe('secured local cluster (SASL_SSL on 27092/27192/27292)', () => {
  beforeAll(async () => {
    up = await runCli(['kafka', 'up', '--secure'], clusterEnv, 300_000);
    if (up.code !== 0) throw new Error(`kafka up --secure failed:\n${up.stderr}\n${up.stdout}`);
    password = readFileSync(join(tlsDir, 'client.password'), 'utf8').trim();
    console.info(`secured cluster: kafka up --secure took ${up.elapsedMs} ms`);
  }, 320_000);

  afterAll(async () => {
    await runCli(['kafka', 'down'], clusterEnv);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('kafka up --secure prints the client settings, not the password; status asks over SASL_SSL', async () => {
    expect(up.stdout).toContain(`ssl: { ca_file: ${join(tlsDir, 'ca.crt')} }`);
    expect(up.stdout).toContain(
      `sasl: { mechanism: scram-sha-512, username: sdp, password_file: ${join(tlsDir, 'client.password')} }`,
    );
    expect(password).toMatch(/^[0-9a-f]{32}$/);
    expect(up.stdout + up.stderr).not.toContain(password);
    const status = await runCli(['kafka', 'status'], clusterEnv);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/brokers \[1, 2, 3\]; ready; client listener SASL_SSL/);
  });

  it('topics create, generate (transactions) and etl exactly once at debug level; the password appears in no output channel', async () => {
    const debug = { SDP_LOG__LEVEL: 'debug' };
    const outputs: Record<string, string> = {};
    const created = await runCli(['topics', 'create'], secureEnv(debug));
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`created ${topics.clickstream}`);
    outputs['topics create stdout+stderr'] = created.stdout + created.stderr;

    const generated = await runCli(
      ['generate', '--count', String(COUNT), '--clickstream-rate', '0', '--iot-rate', '0', '--threads', '2'],
      secureEnv(debug),
    );
    expect(generated.code, generated.stderr).toBe(0);
    outputs['generate stdout+stderr'] = generated.stdout + generated.stderr;

    const config = secureConfig();
    // The test's own kafkajs admin, over TLS + SCRAM: the topics hold data.
    const ends = {
      clickstream: await endOffsets(config, testLogger(), topics.clickstream),
      iot: await endOffsets(config, testLogger(), topics.iot),
    };
    expect([...ends.clickstream.values(), ...ends.iot.values()].some((end) => end > 0n)).toBe(true);
    // What generate reports as acknowledged (committed transactions): the lake must hold exactly that.
    const summary = /"clickstream_total":(\d+),"iot_total":(\d+)/.exec(generated.stdout + generated.stderr);
    expect(summary, 'generate prints its producer summary').not.toBeNull();
    const produced = { clickstream: Number(summary![1]), iot: Number(summary![2]) };
    expect(produced.clickstream + produced.iot).toBe(COUNT);

    const lakeRoot = join(dir, 'lake');
    const checkpointRoot = join(dir, 'checkpoints');
    const logFile = join(dir, 'etl.log');
    const etl = EtlProcess.start(
      etlEnv(config, {
        lakeRoot,
        checkpointRoot,
        extra: { ...secureEnv(debug), SDP_ETL__MAX_FILE_AGE: '3s', SDP_LOG__LEVEL: 'debug' },
      }),
      { logFile },
    );
    try {
      const statusPort = await etl.statusPort();
      // End offsets count transaction markers too, so wait on the lake itself (files appear by atomic rename).
      const lake = await openLake(lakeRoot);
      const count = (table: string) => lake.scalar(`SELECT count(*) FROM ${lake.table(table)}`).catch(() => 0);
      try {
        await waitFor(
          async () => {
            if (!etl.running) throw new Error(`etl exited early:\n${etl.tail(30)}`);
            return (await count('clickstream')) >= produced.clickstream && (await count('iot')) >= produced.iot;
          },
          240_000,
          'the lake to hold every produced event',
          1_000,
        );
      } finally {
        lake.close();
      }
      outputs['/api/status'] = await (await fetch(`http://127.0.0.1:${statusPort}/api/status`)).text();
      outputs['/metrics'] = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
      const exit = await etl.terminate();
      expect(exit.code).toBe(0);
    } finally {
      if (etl.running) await etl.kill9();
    }
    outputs['etl log file (stdout+stderr)'] = readFileSync(logFile, 'utf8');
    expect(outputs['etl log file (stdout+stderr)']).toMatch(/"level":20/);

    const lake = await openLake(lakeRoot);
    try {
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('clickstream')}`)).toBe(produced.clickstream);
      expect(await lake.scalar(`SELECT count(DISTINCT event_id) FROM ${lake.table('clickstream')}`)).toBe(
        produced.clickstream,
      );
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('iot')}`)).toBe(produced.iot);
    } finally {
      lake.close();
    }

    const show = await runCli(['config', 'show'], secureEnv(debug));
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('kafka.sasl.password = "[redacted]"');
    outputs['config show'] = show.stdout + show.stderr;
    const dotEnv = join(dir, '.env');
    const env = await runCli(['config', 'env', '-o', dotEnv], secureEnv(debug));
    expect(env.code, env.stderr).toBe(0);
    outputs['.env'] = readFileSync(dotEnv, 'utf8');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Docker Compose variable reference, written as is
    expect(outputs['.env']).toContain('KAFKA_SASL_PASSWORD=${SDP_KAFKA__SASL__PASSWORD}');

    for (const [channel, text] of Object.entries(outputs)) {
      expect(text.length, channel).toBeGreaterThan(0);
      expect(text.includes(password), `the password appears in ${channel}`).toBe(false);
    }
  }, 420_000);

  it('the platform runs through the mutual-TLS listener (port + 2) and the SASL/PLAIN one (port + 3)', async () => {
    const listeners = (offset: number) => ports.map((p) => `127.0.0.1:${p + offset}`).join(',');
    expect(up.stdout).toContain(`or with a client certificate (mutual TLS, no SASL) on ${listeners(2)}`);
    expect(up.stdout).toContain(`or with SASL/PLAIN over TLS on ${listeners(3)}`);
    const {
      SDP_KAFKA__SASL__PASSWORD: _p,
      SDP_KAFKA__SASL__MECHANISM: _m,
      SDP_KAFKA__SASL__USERNAME: _u,
      ...tlsOnly
    } = secureEnv();
    const mtls = {
      ...tlsOnly,
      SDP_KAFKA__BOOTSTRAP_SERVERS: listeners(2),
      SDP_KAFKA__SSL__CERT_FILE: join(tlsDir, 'client.crt'),
      SDP_KAFKA__SSL__KEY_FILE: join(tlsDir, 'client.key'),
    };
    expect(await platformThrough('mtls', mtls)).toEqual({ produced: 600, lake: 600 });
    const plain = {
      ...tlsOnly,
      SDP_KAFKA__BOOTSTRAP_SERVERS: listeners(3),
      SDP_KAFKA__SASL__MECHANISM: 'plain',
      SDP_KAFKA__SASL__USERNAME: 'sdp-plain',
      SDP_KAFKA__SASL__PASSWORD_FILE: join(tlsDir, 'plain.password'),
    };
    expect(await platformThrough('plain', plain)).toEqual({ produced: 600, lake: 600 });

    // The mutual-TLS listener refuses a client without a certificate, in one line.
    const { SDP_KAFKA__SSL__CERT_FILE: _c, SDP_KAFKA__SSL__KEY_FILE: _k, ...noCert } = mtls;
    expectSecurityError(
      await runCli(['topics', 'create'], noCert),
      ErrorCodes.KAFKA_TLS_FAILED,
      /the TLS handshake with Kafka at .* failed \(.*(bad certificate|certificate required)/,
    );
  }, 480_000);

  it('make up proves the TLS trust and the SASL login before anything else connects, with the same one-line errors', async () => {
    const runDir = join(dir, 'run');
    const wrong = await runMake(
      ['up'],
      secureEnv({ SDP_KAFKA__SASL__PASSWORD: 'not-the-password-5c2e', SDP_SERVICES__RUN_DIR: runDir }),
    );
    expect(wrong.code).not.toBe(0);
    const wrongErrors = wrong.stderr.split('\n').filter((l) => l.startsWith('error '));
    expect(wrongErrors).toHaveLength(1);
    expect(wrongErrors[0]).toMatch(
      /^error SDP_ERR_KAFKA_AUTH_FAILED: Kafka at 127\.0\.0\.1:27092 refused the SASL login of user 'sdp'/,
    );
    expect(wrong.stdout).not.toMatch(/topics:|platform:/);
    expect(wrong.stdout + wrong.stderr).not.toContain('not-the-password-5c2e');

    const untrusted = await runMake(
      ['up'],
      withoutCa(secureEnv({ SDP_KAFKA__SSL: 'true', SDP_SERVICES__RUN_DIR: runDir })),
    );
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(
      /^error SDP_ERR_KAFKA_TLS_UNTRUSTED: the TLS certificate of Kafka at 127\.0\.0\.1:27092 is not signed by a trusted CA/m,
    );
    expect(untrusted.stdout).not.toMatch(/topics:|platform:/);

    const good = await runCli(['services', 'up', '--kafka-only'], secureEnv({ SDP_SERVICES__RUN_DIR: runDir }));
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(
      /Kafka: TLS certificate trusted, SASL login accepted \(user sdp, scram-sha-512\) at 127\.0\.0\.1:27092\ntopics: creating them/,
    );
  }, 180_000);

  // After generate: the transaction coordinators exist (__transaction_state is made on first use).
  it("the bare wire-protocol probes speak TLS + SCRAM: metadata of one broker, a transaction's state", async () => {
    const config = secureConfig();
    const metadata = await probeBrokerMetadata('127.0.0.1', 27192, [], 10_000, 'sdp-test', connectionSecurity(config));
    expect(metadata.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
    expect((await describeTransaction(config, randomName('no-such-txn'), 10_000)).state).toBe('NotFound');
    const wrong = loadTestConfig({
      ...{ kafka: { ...config.kafka, sasl: { mechanism: 'scram-sha-512', username: 'sdp', password: 'wrong' } } },
    });
    await expect(
      probeBrokerMetadata('127.0.0.1', 27192, [], 10_000, 'sdp-test', connectionSecurity(wrong)),
    ).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED' });
  });

  // After generate: the topics hold data. The Kafka browser's and the offset guard's raw requests
  // (Fetch, DescribeLogDirs, Metadata v10) go over TLS + SCRAM like the kafkajs clients.
  it('the Kafka browser reads sizes and messages, and the topic id is known, over TLS + SCRAM', async () => {
    const config = secureConfig();
    const browser = createClusterBrowser(config, testLogger());
    try {
      const summary = (await browser.topics()).find((t) => t.name === topics.clickstream);
      expect(summary).toBeDefined();
      expect(summary!.bytes).toBeGreaterThan(0);
      const messages = await browser.messages({ topic: topics.clickstream, partition: 0, from: 'last', limit: 5 });
      // The partition's last records (a few: transaction markers take offsets too).
      expect(messages.length).toBeGreaterThan(0);
      expect(messages.length).toBeLessThanOrEqual(5);
      for (const m of messages) {
        expect(m.value.kind).toBe('json');
        expect(JSON.parse(m.value.text)).toHaveProperty('event_id');
      }
    } finally {
      await browser.close();
    }
    expect(await fetchTopicId(config, topics.clickstream)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a missing CA or password file is a config error naming the key (exit 2), before any connection', async () => {
    const missing = join(dir, 'no-such-ca.crt');
    const ca = await runCli(['topics', 'create'], secureEnv({ SDP_KAFKA__SSL__CA_FILE: missing }));
    expect(ca.code).toBe(2);
    expect(ca.stderr).toContain(`kafka.ssl.ca_file: cannot read ${missing} (ENOENT: no such file)`);
    const { SDP_KAFKA__SASL__PASSWORD: _p, ...noPassword } = secureEnv();
    const file = await runCli(['generate', '--count', '10'], {
      ...noPassword,
      SDP_KAFKA__SASL__PASSWORD_FILE: join(dir, 'no-such-password'),
    });
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/kafka\.sasl\.password_file: cannot read .*no-such-password \(ENOENT/);
  });

  it('a wrong password: one line that says the login was refused, for topics and for generate', async () => {
    for (const args of [
      ['topics', 'create'],
      ['generate', '--count', '10'],
    ]) {
      const result = await runCli(args, secureEnv({ SDP_KAFKA__SASL__PASSWORD: 'not-the-password-7d1f' }));
      expectSecurityError(
        result,
        ErrorCodes.KAFKA_AUTH_FAILED,
        /refused the SASL login of user 'sdp' \(scram-sha-512\): wrong username or password/,
      );
      expect(result.stderr).not.toContain('not-the-password-7d1f');
    }
  }, 120_000);

  it('an untrusted CA (system CAs only): one line that names the certificate problem', async () => {
    for (const args of [
      ['topics', 'create'],
      ['generate', '--count', '10'],
    ]) {
      const result = await runCli(args, withoutCa(secureEnv({ SDP_KAFKA__SSL: 'true' })));
      expectSecurityError(
        result,
        ErrorCodes.KAFKA_TLS_UNTRUSTED,
        /is not signed by a trusted CA \(self[- ]signed certificate in certificate chain\)/,
      );
    }
  }, 120_000);

  it('a certificate for another host, and an expired one: each named', async () => {
    const cases = [
      {
        cert: signedCertificate('wrong-host', 'subjectAltName=DNS:broker.example', 30),
        code: ErrorCodes.KAFKA_TLS_WRONG_HOST,
        message: /does not name the host connected to/,
      },
      {
        cert: signedCertificate('expired', 'subjectAltName=IP:127.0.0.1', -1),
        code: ErrorCodes.KAFKA_TLS_EXPIRED,
        message: /is expired or not yet valid \(certificate has expired\)/,
      },
    ];
    for (const c of cases) {
      const { server, port } = await fakeBroker(c.cert);
      try {
        const result = await runCli(
          ['topics', 'create'],
          secureEnv({ SDP_KAFKA__BOOTSTRAP_SERVERS: `127.0.0.1:${port}` }),
        );
        expectSecurityError(result, c.code, c.message);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }
  }, 120_000);
});
