import type { Admin } from 'kafkajs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/load.js';
import { ErrorCodes, SdpError } from '../../../../src/errors.js';
import { withAdminSession } from '../../../../src/kafka/admin/adminSession.js';

const silentLogger = pino({ level: 'silent' });
const config = parseConfig('', 'test.yml', { SDP_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:1' }).config;

/** kafkajs's errors as they arrive: a name, and for a broker's error code its type. */
function kafkajsError(name: string, type?: string): Error {
  const err = new Error(`${name} ${type ?? ''}`) as Error & { type?: string };
  err.name = name;
  if (type) err.type = type;
  return err;
}
const refused = (): Error =>
  Object.assign(kafkajsError('KafkaJSConnectionError'), { message: 'Connection error: connect ECONNREFUSED' });

/** Admin clients that count their connects and disconnects; `connect` as given. */
function fakeAdmins(connect: () => Promise<void> = async () => undefined) {
  const counts = { made: 0, connects: 0, disconnects: 0 };
  const newAdmin = (): Admin => {
    counts.made += 1;
    return {
      connect: async () => {
        counts.connects += 1;
        await connect();
      },
      disconnect: async () => {
        counts.disconnects += 1;
      },
    } as unknown as Admin;
  };
  return { counts, newAdmin };
}

const session = (newAdmin: () => Admin, timeoutMs = 10_000) => ({
  clientSuffix: 'test',
  retries: 0,
  what: 'reading log end offsets',
  timeoutMs,
  newAdmin,
});

async function failure(promise: Promise<unknown>): Promise<SdpError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SdpError);
  return err as SdpError;
}

describe('withAdminSession: a leader that just died is waited out (architecture.md, "A broker that just died")', () => {
  it('runs the op again on a fresh client while the leadership moves, then gives its result', async () => {
    const { counts, newAdmin } = fakeAdmins();
    const clients = new Set<Admin>();
    let calls = 0;
    const result = await withAdminSession(config, silentLogger, session(newAdmin), async (admin) => {
      clients.add(admin);
      calls += 1;
      if (calls === 1) throw refused();
      if (calls === 2) throw kafkajsError('KafkaJSProtocolError', 'NOT_LEADER_OR_FOLLOWER');
      return 'offsets';
    });
    expect(result).toBe('offsets');
    expect(calls).toBe(3);
    expect(clients.size).toBe(3); // fresh metadata each time
    expect(counts).toEqual({ made: 3, connects: 3, disconnects: 3 });
  });

  it("sees a leader move through kafkajs's retries (a group coordinator that died)", async () => {
    const { newAdmin } = fakeAdmins();
    let calls = 0;
    const result = await withAdminSession(config, silentLogger, session(newAdmin), async () => {
      calls += 1;
      if (calls === 1) {
        const cause = refused();
        throw Object.assign(new Error(cause.message), { name: 'KafkaJSNumberOfRetriesExceeded', cause });
      }
      return 'members';
    });
    expect(result).toBe('members');
    expect(calls).toBe(2);
  });

  it('gives any other error of the op at once, as before: the op runs once', async () => {
    const { counts, newAdmin } = fakeAdmins();
    let calls = 0;
    const err = await failure(
      withAdminSession(config, silentLogger, session(newAdmin), async () => {
        calls += 1;
        throw kafkajsError('KafkaJSProtocolError', 'TOPIC_AUTHORIZATION_FAILED');
      }),
    );
    expect(calls).toBe(1);
    expect(err.code).toBe(ErrorCodes.KAFKA_UNREACHABLE);
    expect(err.message).toContain('reading log end offsets failed (KafkaJSProtocolError TOPIC_AUTHORIZATION_FAILED)');
    expect(counts.disconnects).toBe(1);
  });

  it("passes the op's own SdpError through unchanged, at once", async () => {
    const { newAdmin } = fakeAdmins();
    const missing = new SdpError(ErrorCodes.KAFKA_TOPIC_MISSING, 'topic t has no partition 9');
    let calls = 0;
    const err = await failure(
      withAdminSession(config, silentLogger, session(newAdmin), async () => {
        calls += 1;
        throw missing;
      }),
    );
    expect(err).toBe(missing);
    expect(calls).toBe(1);
  });

  it('reports KAFKA_UNREACHABLE, naming the leader that never moved, once the deadline passes', async () => {
    const { counts, newAdmin } = fakeAdmins();
    let calls = 0;
    const started = Date.now();
    const err = await failure(
      withAdminSession(config, silentLogger, session(newAdmin, 1_500), async () => {
        calls += 1;
        throw refused();
      }),
    );
    const tookMs = Date.now() - started;
    expect(err.code).toBe(ErrorCodes.KAFKA_UNREACHABLE);
    expect(err.message).toMatch(
      /reading log end offsets did not succeed within 2 s \(a partition leader .*ECONNREFUSED/,
    );
    expect(err.details.join(' ')).toMatch(/a broker is down/);
    expect(tookMs).toBeGreaterThanOrEqual(1_450);
    expect(tookMs).toBeLessThan(2_500);
    expect(calls).toBeGreaterThanOrEqual(3); // 0, 250, 750 ms, …
    // No client is made after the deadline, and each one made is disconnected.
    const made = counts.made;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(counts.made).toBe(made);
    expect(counts.disconnects).toBe(made);
  });

  it('reports a Kafka it cannot connect to as KAFKA_UNREACHABLE at once, without trying the op', async () => {
    const { counts, newAdmin } = fakeAdmins(async () => {
      throw refused();
    });
    let calls = 0;
    const started = Date.now();
    const err = await failure(
      withAdminSession(config, silentLogger, session(newAdmin), async () => {
        calls += 1;
        return 'never';
      }),
    );
    expect(err.code).toBe(ErrorCodes.KAFKA_UNREACHABLE);
    expect(err.message).toContain(
      'Kafka is unreachable at 127.0.0.1:1: reading log end offsets failed (Connection error',
    );
    expect(calls).toBe(0);
    expect(counts.connects).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('reports a connect that never answers as KAFKA_UNREACHABLE within the timeout', async () => {
    const { counts, newAdmin } = fakeAdmins(() => new Promise<void>(() => undefined));
    const err = await failure(withAdminSession(config, silentLogger, session(newAdmin, 300), async () => 'never'));
    expect(err.code).toBe(ErrorCodes.KAFKA_UNREACHABLE);
    expect(err.message).toMatch(/reading log end offsets did not succeed within 0 s$/);
    expect(err.details.join(' ')).toMatch(/is the cluster running/);
    expect(counts).toEqual({ made: 1, connects: 1, disconnects: 1 });
  });
});
