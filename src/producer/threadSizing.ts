import type { StreamName } from '../events/types.js';

/**
 * How many producer threads `data_generator.threads: auto` starts. Every thread is a whole V8
 * isolate with its own transactional producers and generators, so a thread the rate does not need
 * is memory spent for nothing (architecture.md, "Data flow"). One thread generated and sent about 200k events/s
 * on this project's 2-core machine (`npm run bench:produce`), so a thread is given at most a fifth
 * of that: it stays far from saturation while the ETL shares the cores.
 */
export const AUTO_EVENTS_PER_THREAD = 40_000;
/** More threads never measured faster on two cores; more cores may use up to this many. */
export const AUTO_MAX_THREADS = 4;

/**
 * The thread count for `setting` (a number is kept as it is) at these rates (events per second per
 * stream; 0 = as fast as possible; streams absent are not generated) on a machine with `cpus` cores.
 */
export function producerThreadCount(
  setting: number | 'auto',
  rates: Partial<Record<StreamName, number>>,
  cpus: number,
): number {
  if (setting !== 'auto') return setting;
  const ceiling = Math.max(1, Math.min(AUTO_MAX_THREADS, Math.floor(cpus)));
  const given = Object.values(rates).filter((r): r is number => r !== undefined);
  if (given.some((r) => r === 0)) return ceiling;
  const total = given.reduce((n, r) => n + r, 0);
  return Math.min(ceiling, Math.max(1, Math.ceil(total / AUTO_EVENTS_PER_THREAD)));
}
