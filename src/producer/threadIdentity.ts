/**
 * Who a producer thread is: its transactional ids, its generator seed and its share of the
 * simulated population.
 *
 * Transactional ids are `<prefix>-<instance>-<slot>-<lane>`. The instance part is new for every
 * producer pool, so two pools on one cluster (two `generate` processes, a test beside a benchmark)
 * never fence each other; inside a pool, a thread that replaces a dead one takes over its slot's
 * ids and so fences the dead producer and aborts its open transaction at once. A process killed
 * outright leaves its open transactions to the broker, which aborts them after the transaction
 * timeout.
 *
 * Seeds: each (slot, generation) gets its own, so a replacement thread does not replay the event
 * ids its predecessor already sent; generation 0 keeps the historical `seed + slot × φ` derivation.
 *
 * Population: thread `slot` simulates the devices and users whose owner is `slot` among the pool's
 * threads (generators/ownership.ts), whatever its generation, so a replacement takes over the same
 * ids; the devices' moving state lives in a table shared by the pool, so it also continues each
 * device from its last reading (architecture.md, "Data flow").
 */
import { randomBytes } from 'node:crypto';
import { iotStateTableLength } from '../generators/iot.js';
import type { Shard } from '../generators/ownership.js';

/** A short random id for one producer pool (8 hex characters). */
export function createPoolInstanceId(): string {
  return randomBytes(4).toString('hex');
}

export function transactionalIdFor(prefix: string, instanceId: string, slot: number, lane: number): string {
  return `${prefix}-${instanceId}-${slot}-${lane}`;
}

/** The generator seed of the `generation`-th thread to hold `slot` (32-bit unsigned). */
export function threadSeed(poolSeed: number, slot: number, generation: number): number {
  return (poolSeed + Math.imul(slot, 0x9e3779b1) + Math.imul(generation, 0x85ebca6b)) >>> 0;
}

/** The ids thread `slot` of a pool of `threads` simulates: the same for every generation of the slot. */
export function threadShard(slot: number, threads: number): Shard {
  return { index: slot, count: threads };
}

/** The pool's table of IoT device state (generators/iot.ts), every device not simulated yet (NaN). */
export function createIotStateTable(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(iotStateTableLength() * Float64Array.BYTES_PER_ELEMENT);
  new Float64Array(buffer).fill(Number.NaN);
  return buffer;
}
