/**
 * Which producer thread simulates an identity (a device, a user). Every id has exactly one owner,
 * so its events are one continuous simulation: one battery draining, one sequence of sessions
 * (architecture.md, "Data flow"). The ids of a population are numbered (`u-000042` is user 42,
 * `grenoble-th-0003` device 64 + 3) and dealt round robin over the threads: the owner depends on the
 * id's number and the thread count only (not the seed, not which generation of a thread holds the
 * slot), so a thread that replaces a dead one simulates the same ids; every thread owns ⌊n/threads⌋
 * or ⌈n/threads⌉ of n ids, never none while there are at least as many ids as threads; and the
 * population itself is the same whatever the thread count.
 */

/** One thread's part of the population: the ids whose owner is `index` among `count` threads. */
export interface Shard {
  index: number;
  count: number;
}

/** The whole population: one thread simulates every id. */
export const WHOLE_POPULATION: Shard = { index: 0, count: 1 };

/** The thread, in [0, threads), that simulates the id numbered `idNumber` in its population. */
export function ownerOf(idNumber: number, threads: number): number {
  return idNumber % threads;
}

export function checkShard(shard: Shard): void {
  if (!Number.isInteger(shard.count) || shard.count < 1)
    throw new RangeError(`shard count must be a positive integer, got ${shard.count}`);
  if (!Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count)
    throw new RangeError(`shard index must be an integer in [0, ${shard.count}), got ${shard.index}`);
}

/** Whether `shard` simulates the id numbered `idNumber`. */
export function owns(shard: Shard, idNumber: number): boolean {
  return ownerOf(idNumber, shard.count) === shard.index;
}

/** The numbers, in [0, populationSize), of the ids `shard` simulates, ascending. */
export function ownedIdNumbers(populationSize: number, shard: Shard): number[] {
  checkShard(shard);
  const owned: number[] = [];
  for (let n = shard.index; n < populationSize; n += shard.count) owned.push(n);
  return owned;
}
