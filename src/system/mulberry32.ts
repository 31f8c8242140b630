/**
 * mulberry32: a tiny seeded PRNG, uniform in [0, 1), for the benchmarks and tests, so that a run can
 * be repeated from its seed (the chaos plan, the encoder bench's rows, randomised test data). Its
 * sequences are pinned by tests that quote them: changing a single operation here changes every
 * seed's plan. The generators' event data use `Random` (generators/random.ts), a different algorithm
 * with samplers around it.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
