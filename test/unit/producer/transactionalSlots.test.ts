import { afterEach, describe, expect, it } from 'vitest';
import {
  claimSlot,
  createSlotTable,
  SLOT_STALE_AFTER_MS,
  type SlotLease,
} from '../../../src/producer/transactionalSlots.js';

const leases: SlotLease[] = [];
afterEach(() => {
  for (const lease of leases.splice(0)) lease.release();
});

async function claim(...args: Parameters<typeof claimSlot>): Promise<SlotLease> {
  const lease = await claimSlot(...args);
  leases.push(lease);
  return lease;
}

/** Settles within `ms`, or 'pending'. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))]);
}

describe('transactional slots', () => {
  it('gives concurrent claimants distinct slots', async () => {
    const table = createSlotTable(4, Date.now());
    const claimed = await Promise.all(Array.from({ length: 4 }, () => claim(table, { timeoutMs: 1_000 })));
    expect(claimed.map((l) => l.slot).sort()).toEqual([0, 1, 2, 3]);
  });

  it('makes a claimant wait while every slot is taken, and gives it the first one released', async () => {
    const table = createSlotTable(2, Date.now());
    const a = await claim(table, { timeoutMs: 1_000 });
    await claim(table, { timeoutMs: 1_000 });
    const waiting = claimSlot(table, { timeoutMs: 5_000 });
    expect(await within(waiting, 400)).toBe('pending');
    a.release();
    const lease = await waiting;
    leases.push(lease);
    expect(lease.slot).toBe(a.slot);
  });

  it('gives up after its timeout when no slot frees', async () => {
    const table = createSlotTable(1, Date.now());
    await claim(table, { timeoutMs: 1_000 });
    await expect(claimSlot(table, { timeoutMs: 300 })).rejects.toThrow(/no producer slot became free within 300 ms/);
  });

  it('reclaims the slot of an owner that stopped beating, once its last beat is older than SLOT_STALE_AFTER_MS', async () => {
    const baseMs = 1_000_000;
    const lastBeatMs = baseMs + 10_000;
    const table = createSlotTable(1, baseMs);
    // A dead owner: its clock stopped at its last beat, so its heartbeat keeps writing that beat.
    const dead = await claim(table, { timeoutMs: 1_000, now: () => lastBeatMs });
    let nowMs = lastBeatMs + SLOT_STALE_AFTER_MS - 1;
    const replacement = claimSlot(table, { timeoutMs: 60_000, now: () => nowMs });
    expect(await within(replacement, 400)).toBe('pending');

    // Heartbeats have a one-second resolution: past SLOT_STALE_AFTER_MS + 1 s it is stale whatever the rounding.
    nowMs = lastBeatMs + SLOT_STALE_AFTER_MS + 1_000;
    const lease = await within(replacement, 1_000);
    expect(lease).not.toBe('pending');
    leases.push(lease as SlotLease);
    expect((lease as SlotLease).slot).toBe(dead.slot);
  });

  it('with an injected clock, times out on that clock', async () => {
    const table = createSlotTable(1, 0);
    let nowMs = 5_000;
    await claim(table, { timeoutMs: 1_000, now: () => nowMs });
    const waiting = claimSlot(table, { timeoutMs: 1_000, now: () => nowMs });
    waiting.catch(() => undefined);
    expect(await within(waiting, 300)).toBe('pending');
    nowMs += 1_001;
    await expect(waiting).rejects.toThrow(/no producer slot/);
  });
});
