/**
 * A stand-in TopicConsumer (test helper, not a test file): `createConsumer` has the signature of
 * createTopicConsumer; the test then drives the handlers itself (onAssignment, onBatch, ...) and
 * reads back what the ingest actor asked of the consumer.
 */
import type { Config } from '../../../../src/config/schema.js';
import type { Logger } from '../../../../src/log/logger.js';
import type {
  TopicConsumer,
  TopicConsumerHandlers,
  TopicConsumerOptions,
} from '../../../../src/kafka/topicConsumer.js';

export type ConsumerCall =
  | { call: 'pause'; partition: number }
  | { call: 'resume'; partition: number }
  | { call: 'seek'; partition: number; offset: string }
  | { call: 'quiesce' }
  | { call: 'disconnect' };

export interface FakeConsumer extends TopicConsumer {
  /** What createConsumer was called with. */
  readonly created: { config: Config; options: TopicConsumerOptions };
  readonly calls: ConsumerCall[];
  /** The handlers `start` received; throws before `start`. */
  handlers(): TopicConsumerHandlers;
  /** Every seek, in order, as partition → offset pairs. */
  seeks(): Array<[number, string]>;
  /** What endOffsets() answers (high watermark per partition); empty until set. */
  ends: Map<number, string>;
}

export interface FakeConsumerFactory {
  createConsumer(config: Config, logger: Logger, options: TopicConsumerOptions): FakeConsumer;
  /** Every consumer created, in order. */
  readonly consumers: FakeConsumer[];
  /** The last consumer created; throws if none. */
  consumer(): FakeConsumer;
}

/**
 * `ends`: what endOffsets() answers on every consumer created, until a test changes it.
 * `joinWith`: start() reports this assignment before it resolves, as kafkajs joins inside run().
 * `failStart`: start() rejects with it, as kafkajs does when no broker takes the connection.
 */
export function fakeConsumerFactory(
  defaults: { ends?: ReadonlyMap<number, string>; joinWith?: readonly number[]; failStart?: Error } = {},
): FakeConsumerFactory {
  const consumers: FakeConsumer[] = [];
  return {
    consumers,
    createConsumer(config, _logger, options) {
      let started: TopicConsumerHandlers | undefined;
      const calls: ConsumerCall[] = [];
      const consumer: FakeConsumer = {
        topic: options.topic,
        created: { config, options },
        calls,
        handlers() {
          if (!started) throw new Error('the consumer was not started');
          return started;
        },
        seeks() {
          return calls.flatMap((c): Array<[number, string]> => (c.call === 'seek' ? [[c.partition, c.offset]] : []));
        },
        async start(handlers) {
          if (defaults.failStart) throw defaults.failStart;
          started = handlers;
          if (defaults.joinWith) handlers.onAssignment([...defaults.joinWith], []);
        },
        pause(partition) {
          calls.push({ call: 'pause', partition });
        },
        resume(partition) {
          calls.push({ call: 'resume', partition });
        },
        seek(partition, offset) {
          calls.push({ call: 'seek', partition, offset });
        },
        ends: new Map(defaults.ends ?? []),
        async endOffsets() {
          return new Map(consumer.ends);
        },
        async quiesce() {
          calls.push({ call: 'quiesce' });
        },
        async disconnect() {
          calls.push({ call: 'disconnect' });
        },
      };
      consumers.push(consumer);
      return consumer;
    },
    consumer() {
      const last = consumers[consumers.length - 1];
      if (!last) throw new Error('no consumer was created');
      return last;
    },
  };
}
