import { describe, expect, it } from 'vitest';
import { AppendOrder } from '../../../src/producer/appendOrder.js';

describe('AppendOrder', () => {
  it('lets a turn send only once every earlier turn is done, in the order taken', async () => {
    const order = new AppendOrder();
    const sent: string[] = [];
    const first = order.take();
    const second = order.take();
    const third = order.take();
    const sends = [
      third.ready.then(() => sent.push('third')),
      second.ready.then(() => sent.push('second')),
      first.ready.then(() => sent.push('first')),
    ];
    await first.ready;
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sent).toEqual(['first']);
    first.done();
    await second.ready;
    expect(sent).toEqual(['first', 'second']);
    second.done();
    second.done(); // idempotent
    await Promise.all(sends);
    expect(sent).toEqual(['first', 'second', 'third']);
  });

  it('releases the next turn when an earlier one fails (done in a finally)', async () => {
    const order = new AppendOrder();
    const failed = order.take();
    const next = order.take();
    let ran = false;
    const waiting = next.ready.then(() => (ran = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(ran).toBe(false);
    failed.done();
    await waiting;
    expect(ran).toBe(true);
  });
});
