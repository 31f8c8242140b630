/**
 * TEST_LONG=1 or true (`npm run test:long`; not SDP_…: those are config keys, and an unknown one is an error): the long versions of the integration tests that need minutes, e.g. every
 * compaction fault point for every owner. Without it (`make test`, CI) they run a short version that still hits each
 * point once; the suite must stay well inside CI's 40 minutes on two cores.
 */
export const LONG_RUN = ['1', 'true'].includes(process.env.TEST_LONG ?? '');

/** All of `items` in a long run, else those of `short` (a subset named by the test, so the choice is visible). */
export function shortOrAll<T>(items: readonly T[], short: readonly T[]): readonly T[] {
  const unknown = short.filter((s) => !items.includes(s));
  if (unknown.length > 0) throw new Error(`short subset names what the full list lacks: ${unknown.join(', ')}`);
  return LONG_RUN ? items : short;
}
