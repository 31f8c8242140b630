import { describe, expect, it } from 'vitest';
import type { TopicConsumer } from '../../../src/kafka/topicConsumer.js';
import { GenerationClients } from '../../../src/platform/generationClients.js';
import { fakeTransactions, type FakeTransactions } from '../actors/fakes/fakePartitionTransactions.js';
import { silentLogger } from '../actors/fakes/testKit.js';

/** A producer whose close() counts its calls and, with `hang`, never ends (a broker that does not answer). */
function producer(id: string, hang = false): FakeTransactions & { closes: number } {
  const fake = Object.assign(fakeTransactions(id), { closes: 0 });
  fake.close = () => {
    fake.closes += 1;
    if (hang) return new Promise<void>(() => undefined);
    fake.closed = true;
    return Promise.resolve();
  };
  return fake;
}

function consumer(topic: string): TopicConsumer & { disconnected: boolean } {
  const fake = {
    topic,
    disconnected: false,
    start: async () => undefined,
    pause: () => undefined,
    resume: () => undefined,
    seek: () => undefined,
    endOffsets: async () => new Map<number, string>(),
    quiesce: async () => undefined,
    disconnect: async () => {
      fake.disconnected = true;
    },
  };
  return fake;
}

describe('GenerationClients', () => {
  it('closes at the end every producer and consumer their owners left open, and no other', async () => {
    const clients = new GenerationClients(silentLogger);
    const kept = producer('g-t-0');
    const closedByOwner = producer('g-t-1');
    const c = consumer('t');
    clients.transactions(kept);
    await clients.transactions(closedByOwner).close();
    const wrapped = clients.consumer(c);
    expect(wrapped.topic).toBe('t');

    const ended = await clients.end(1_000);
    expect(ended).toEqual({ stillClosing: [], closed: 2 });
    expect(kept.closed).toBe(true);
    expect(c.disconnected).toBe(true);
    expect(closedByOwner.closes).toBe(1); // not closed a second time
  });

  it('waits at most its bound for a close that never ends, and names that client', async () => {
    const clients = new GenerationClients(silentLogger);
    const stuck = producer('g-t-0', true);
    const fine = producer('g-t-1');
    clients.transactions(stuck);
    clients.transactions(fine);
    const startedMs = Date.now();
    const ended = await clients.end(150);
    expect(Date.now() - startedMs).toBeLessThan(1_000);
    expect(ended).toEqual({ stillClosing: ['producer g-t-0'], closed: 1 });
    expect(fine.closed).toBe(true);
    expect(stuck.closes).toBe(1);
  });

  it("closes at once a client opened after the generation's end (a takeover that was under way)", async () => {
    const clients = new GenerationClients(silentLogger);
    await clients.end(100);
    const late = producer('g-t-2');
    const wrapped = clients.transactions(late);
    await Promise.resolve();
    expect(late.closed).toBe(true);
    await wrapped.close(); // its owner's close is the same one
    expect(late.closes).toBe(1);
  });

  it('passes takeOver and commit through to the producer', async () => {
    const clients = new GenerationClients(silentLogger);
    const fake = producer('g-t-0');
    const wrapped = clients.transactions(fake);
    await wrapped.takeOver();
    await wrapped.commit([], [{ topic: 't', partition: 0, offset: 5n, metadata: 'm' }]);
    expect(wrapped.transactionalId).toBe('g-t-0');
    expect(fake.commits).toEqual([[{ topic: 't', partition: 0, offset: 5n, metadata: 'm' }]]);
  });
});
