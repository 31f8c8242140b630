import { describe, expect, it } from 'vitest';
import { BufferBudget } from '../../../src/lake/bufferBudget.js';

describe('BufferBudget', () => {
  it('counts rows taken and released, and is exceeded at its limit', () => {
    const budget = new BufferBudget(100);
    budget.take(60);
    expect(budget.exceeded).toBe(false);
    budget.take(40);
    expect(budget.exceeded).toBe(true);
    budget.release(1);
    expect(budget.used).toBe(99);
    expect(budget.exceeded).toBe(false);
    budget.release(500);
    expect(budget.used).toBe(0);
  });

  it('presses from three quarters of its limit, before it is exceeded', () => {
    const budget = new BufferBudget(100);
    budget.take(74);
    expect(budget.pressing).toBe(false);
    budget.take(1);
    expect(budget.pressing).toBe(true);
    expect(budget.exceeded).toBe(false);
    budget.release(1);
    expect(budget.pressing).toBe(false);
  });

  it('wakes every waiter once, when a release brings it under the limit', () => {
    const budget = new BufferBudget(10);
    budget.take(12);
    const woken: string[] = [];
    budget.whenRoom(() => woken.push('a'));
    budget.whenRoom(() => woken.push('b'));
    budget.release(1); // 11: still over
    expect(woken).toEqual([]);
    budget.release(5); // 6: room
    expect(woken.sort()).toEqual(['a', 'b']);
    budget.take(10);
    budget.release(10);
    expect(woken).toHaveLength(2);
  });

  it('wakes at once when there is room, and forgets a waiter that went away', () => {
    const budget = new BufferBudget(10);
    let now = 0;
    budget.whenRoom(() => (now += 1));
    expect(now).toBe(1);
    budget.take(10);
    let forgotten = 0;
    const wake = (): void => {
      forgotten += 1;
    };
    budget.whenRoom(wake);
    budget.forget(wake);
    budget.release(10);
    expect(forgotten).toBe(0);
  });
});
