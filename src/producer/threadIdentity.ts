/**
 * Who a producer thread is: its transactional ids and its generator seed.
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
 */
import { randomBytes } from 'node:crypto';

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
