import { describe, expect, it } from 'vitest';
import { isLeaderMove, leaderNotAvailable, retryWhileLeadersMove } from '../../../../src/kafka/admin/leaderMoves.js';
import pino from 'pino';

const silentLogger = pino({ level: 'silent' });

/** kafkajs's errors as they arrive: a name, and for a broker's error code its type. */
function kafkajsError(name: string, type?: string): Error {
  const err = new Error(`${name} ${type ?? ''}`) as Error & { type?: string };
  err.name = name;
  if (type) err.type = type;
  return err;
}
const refused = (): Error => kafkajsError('KafkaJSConnectionError');

/** A clock that the sleeps move. */
function fakeTime() {
  let nowMs = 0;
  const slept: number[] = [];
  return {
    now: () => nowMs,
    sleep: async (ms: number) => {
      slept.push(ms);
      nowMs += ms;
    },
    slept,
  };
}

describe('retryWhileLeadersMove: reads whose leader just died', () => {
  it('tries again with back-off on a connection error until the new leaders answer', async () => {
    const time = fakeTime();
    const attempts: number[] = [];
    const result = await retryWhileLeadersMove(
      { deadlineMs: 20_000, logger: silentLogger, what: 'end offsets', ...time },
      async (n) => {
        attempts.push(n);
        if (n < 4) throw n % 2 === 0 ? refused() : kafkajsError('KafkaJSProtocolError', 'NOT_LEADER_FOR_PARTITION');
        return 'offsets';
      },
    );
    expect(result).toBe('offsets');
    expect(attempts).toEqual([0, 1, 2, 3, 4]);
    expect(time.slept).toEqual([250, 500, 1_000, 2_000]);
  });

  it('gives the error at once when it is not a leader moving', async () => {
    const time = fakeTime();
    const denied = kafkajsError('KafkaJSProtocolError', 'TOPIC_AUTHORIZATION_FAILED');
    await expect(
      retryWhileLeadersMove({ deadlineMs: 20_000, logger: silentLogger, what: 'x', ...time }, async () => {
        throw denied;
      }),
    ).rejects.toBe(denied);
    expect(time.slept).toEqual([]);
  });

  it('gives the last error once the deadline has passed (an unreachable Kafka is reported, not waited on)', async () => {
    const time = fakeTime();
    let attempts = 0;
    await expect(
      retryWhileLeadersMove({ deadlineMs: 5_000, logger: silentLogger, what: 'x', ...time }, async () => {
        attempts += 1;
        throw refused();
      }),
    ).rejects.toThrow('KafkaJSConnectionError');
    expect(time.now()).toBe(5_000);
    expect(attempts).toBe(6); // 0, 250, 750, 1750, 3750, 5000 ms
  });

  it('knows the errors of a leader that is gone or moving', () => {
    expect(isLeaderMove(refused())).toBe(true);
    expect(isLeaderMove(kafkajsError('KafkaJSConnectionClosedError'))).toBe(true);
    expect(isLeaderMove(kafkajsError('KafkaJSProtocolError', 'LEADER_NOT_AVAILABLE'))).toBe(true);
    expect(isLeaderMove(kafkajsError('KafkaJSProtocolError', 'UNKNOWN_TOPIC_OR_PARTITION'))).toBe(false);
    expect(isLeaderMove(new Error('disk full'))).toBe(false);
    expect(isLeaderMove('ECONNREFUSED')).toBe(false);
    expect(isLeaderMove(leaderNotAvailable('the leader of t/0 (broker -1) is not available'))).toBe(true);
    // A group's coordinator on the dead broker: DescribeGroups of `services ps`.
    expect(isLeaderMove(kafkajsError('KafkaJSGroupCoordinatorNotFound'))).toBe(true);
    expect(isLeaderMove(kafkajsError('KafkaJSProtocolError', 'GROUP_COORDINATOR_NOT_AVAILABLE'))).toBe(true);
    expect(isLeaderMove(kafkajsError('KafkaJSProtocolError', 'GROUP_AUTHORIZATION_FAILED'))).toBe(false);
  });

  it("looks through kafkajs's retries to the error they ended on", () => {
    const exhausted = (cause: unknown): Error =>
      Object.assign(new Error('retries exhausted'), { name: 'KafkaJSNumberOfRetriesExceeded', cause });
    expect(isLeaderMove(exhausted(refused()))).toBe(true);
    expect(isLeaderMove(exhausted(kafkajsError('KafkaJSProtocolError', 'GROUP_AUTHORIZATION_FAILED')))).toBe(false);
    expect(isLeaderMove(exhausted(undefined))).toBe(false);
    const nonRetriable = Object.assign(new Error('x'), { name: 'KafkaJSNonRetriableError' });
    expect(isLeaderMove(Object.assign(nonRetriable, { cause: kafkajsError('KafkaJSGroupCoordinatorNotFound') }))).toBe(
      true,
    );
  });
});
