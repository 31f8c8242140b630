import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, SdpError } from '../../../src/errors.js';
import { isFenced, isFencedKafkaError } from '../../../src/kafka/partitionTransactions.js';

const require = createRequire(import.meta.url);
// kafkajs's own error classes, wrapped as its retrier and producer wrap them.
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as {
  createErrorFromCode: (code: number) => Error;
};
const { KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded } = require('kafkajs/src/errors') as {
  KafkaJSNonRetriableError: new (e: Error, o?: { cause?: Error }) => Error;
  KafkaJSNumberOfRetriesExceeded: new (e: Error, o: { retryCount: number; retryTime: number }) => Error;
};

describe('isFencedKafkaError (kafkajs errors that say the epoch is stale)', () => {
  it('finds INVALID_PRODUCER_EPOCH (47) however deep kafkajs wrapped it', () => {
    const epoch = createErrorFromCode(47);
    expect(isFencedKafkaError(epoch)).toBe(true);
    expect(isFencedKafkaError(new KafkaJSNonRetriableError(epoch, { cause: epoch }))).toBe(true);
    expect(isFencedKafkaError(new KafkaJSNumberOfRetriesExceeded(epoch, { retryCount: 3, retryTime: 10 }))).toBe(true);
  });

  it('takes PRODUCER_FENCED (90), which kafkajs 2.2.4 does not name, as fenced too', () => {
    expect(isFencedKafkaError(createErrorFromCode(90))).toBe(true);
  });

  it('is false for other failures: concurrent transactions, metadata too large, a timeout', () => {
    expect(isFencedKafkaError(createErrorFromCode(51))).toBe(false);
    const tooLarge = createErrorFromCode(12);
    expect(isFencedKafkaError(new KafkaJSNonRetriableError(tooLarge, { cause: tooLarge }))).toBe(false);
    expect(isFencedKafkaError(new Error('Request Produce(key: 0, version: 7) timed out'))).toBe(false);
    expect(isFencedKafkaError(undefined)).toBe(false);
  });
});

describe('isFenced (the rejection of a commit)', () => {
  it('is true only for the fenced SdpError', () => {
    expect(isFenced(new SdpError(ErrorCodes.KAFKA_TRANSACTION_FENCED, 'taken'))).toBe(true);
    expect(isFenced(new SdpError(ErrorCodes.KAFKA_TRANSACTION_FAILED, 'timed out'))).toBe(false);
    expect(isFenced(createErrorFromCode(47))).toBe(false);
  });
});
