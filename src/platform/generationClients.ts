/**
 * The Kafka clients one generation of the ETL opened (architecture.md, "Supervision"): the transactional producer of
 * every partition and window task, the consumers. A generation's teardown ends them all, whatever state its actors
 * were left in (a checkpointer stopped by its failure never answers `closeTasks`, so its producers stayed connected,
 * one more set per restart), and within a bound: a broker that is down must not hold the next generation's start for
 * ever. A client opened after the end (a takeover that was still under way) is closed at once.
 */
import type { PartitionTransactions } from '../kafka/partitionTransactions.js';
import type { TopicConsumer } from '../kafka/topicConsumer.js';
import type { Logger } from '../log/logger.js';

interface Entry {
  name: string;
  close: () => Promise<void>;
  /** The close under way (by its owner or by `end`), settled once it ended. */
  closing?: Promise<void>;
}

export interface GenerationClientsEnd {
  /** Clients whose close had not ended within the bound (left to finish in the background). */
  stillClosing: string[];
  closed: number;
}

export class GenerationClients {
  private readonly open = new Map<number, Entry>();
  private lastId = 0;
  private ended = false;

  constructor(private readonly logger: Logger) {}

  /** The producer, with its close() seen here; ending the generation closes it if its owner did not. */
  transactions(tx: PartitionTransactions): PartitionTransactions {
    const close = this.track(`producer ${tx.transactionalId}`, () => tx.close());
    return {
      transactionalId: tx.transactionalId,
      takeOver: () => tx.takeOver(),
      commit: (records, offsets) => tx.commit(records, offsets),
      close,
    };
  }

  /** The consumer, with its disconnect() seen here; ending the generation disconnects it if its owner did not. */
  consumer(consumer: TopicConsumer): TopicConsumer {
    const disconnect = this.track(`consumer ${consumer.topic}`, () => consumer.disconnect());
    return {
      topic: consumer.topic,
      start: (handlers) => consumer.start(handlers),
      pause: (partition) => consumer.pause(partition),
      resume: (partition) => consumer.resume(partition),
      seek: (partition, offset) => consumer.seek(partition, offset),
      endOffsets: () => consumer.endOffsets(),
      quiesce: () => consumer.quiesce(),
      disconnect,
    };
  }

  /**
   * Closes every client still open and waits at most `boundMs` for all closes under way; the generation is over, so
   * a client tracked from now on is closed at once.
   */
  async end(boundMs: number): Promise<GenerationClientsEnd> {
    this.ended = true;
    const entries = [...this.open.values()];
    const closes = entries.map((e) => this.closeEntry(e));
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, boundMs);
      timer.unref();
    });
    await Promise.race([Promise.all(closes), bound]);
    clearTimeout(timer);
    const stillClosing = [...this.open.values()].map((e) => e.name);
    if (stillClosing.length > 0)
      this.logger.warn(
        { component: 'etl', still_closing: stillClosing, bound_ms: boundMs },
        'kafka clients of the ended generation did not close in time; left to close in the background',
      );
    return { stillClosing, closed: entries.length - stillClosing.length };
  }

  /** Registers a client; returns its close, which runs once however often it is called. */
  private track(name: string, close: () => Promise<void>): () => Promise<void> {
    this.lastId += 1;
    const id = this.lastId;
    const entry: Entry = { name, close };
    this.open.set(id, entry);
    const closeOnce = (): Promise<void> => {
      entry.closing ??= close().finally(() => this.open.delete(id));
      return entry.closing;
    };
    entry.close = closeOnce;
    if (this.ended)
      void closeOnce().catch((err: unknown) =>
        this.logger.warn(
          { component: 'etl', err, client: name },
          'close of a client opened after its generation ended failed',
        ),
      );
    return closeOnce;
  }

  private closeEntry(entry: Entry): Promise<void> {
    return entry.close().catch((err: unknown) => {
      this.logger.warn({ component: 'etl', err, client: entry.name }, 'close of a kafka client failed');
    });
  }
}
