/**
 * A small, fast, seedable PRNG (sfc32, seeded through splitmix32) and the samplers the generators
 * need. Deterministic under a seed: the same seed always yields the same sequence, on any platform,
 * because everything is 32-bit integer arithmetic (`Math.imul`, `| 0`, `>>> 0`).
 * Not cryptographic: `uuid()` is for test data only.
 */
import { uuidV4 } from './uuidV4.js';

export type Seed = number | string;

const TWO_POW_32 = 4294967296;

/** splitmix32: spreads a poor seed (0, 1, 2...) into well-mixed 32-bit words. */
function splitmix32(state: number): { state: number; value: number } {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return { state: next, value: (z ^ (z >>> 16)) >>> 0 };
}

/** Folds any seed into 32 bits: strings by FNV-1a, non-32-bit numbers by mixing both halves. */
function seedToUint32(seed: Seed): number {
  if (typeof seed === 'string') {
    let hash = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) {
      hash = Math.imul(hash ^ seed.charCodeAt(i), 0x01000193);
    }
    return hash >>> 0;
  }
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number or a string, got ${seed}`);
  if (Number.isInteger(seed) && seed >= 0 && seed < TWO_POW_32) return seed >>> 0;
  // Floats, negatives and integers beyond 32 bits: hash their decimal text so no bit is lost.
  return seedToUint32(`n:${seed}`);
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** Box-Muller makes two normals at once; the second is kept for the next call. */
  private spareGaussian = Number.NaN;

  constructor(seed: Seed) {
    let state = seedToUint32(seed);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const step = splitmix32(state);
      state = step.state;
      words.push(step.value);
    }
    this.a = words[0] ?? 0;
    this.b = words[1] ?? 0;
    this.c = words[2] ?? 0;
    this.d = words[3] ?? 1;
    // sfc32's first outputs are correlated with the seed words: discard them, as its author advises.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform integer in [minInclusive, maxInclusive]. */
  int(minInclusive: number, maxInclusive: number): number {
    return minInclusive + Math.floor(this.next() * (maxInclusive - minInclusive + 1));
  }

  /** Uniform float in [min, max). */
  float(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Uniform index in [0, length): what `pick` draws, for a caller that keeps the index. */
  index(length: number): number {
    return Math.floor(this.next() * length);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty array');
    return items[this.index(items.length)] as T;
  }

  /** Standard normal (mean 0, standard deviation 1), Box-Muller. */
  gaussian(): number {
    if (!Number.isNaN(this.spareGaussian)) {
      const spare = this.spareGaussian;
      this.spareGaussian = Number.NaN;
      return spare;
    }
    const u1 = 1 - this.next(); // (0, 1]: log(0) must not happen
    const u2 = this.next();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spareGaussian = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Number of trials up to and including the first success, success probability 1/mean (mean >= 1). */
  geometric(mean: number): number {
    if (mean <= 1) return 1;
    const u = 1 - this.next(); // (0, 1]
    return Math.max(1, Math.ceil(Math.log(u) / Math.log(1 - 1 / mean)));
  }

  /** An RFC 4122 version 4 UUID string built from this generator's bits (deterministic under a seed). */
  uuid(): string {
    const w0 = this.nextUint32();
    const w1 = this.nextUint32();
    const w2 = this.nextUint32();
    return uuidV4(w0, w1, w2, this.nextUint32());
  }

  /** In-place Fisher-Yates shuffle; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}

export function createRandom(seed: Seed): Random {
  return new Random(seed);
}

/** Samples an index in [0, weights.length) with probability proportional to its weight. */
export class IndexSampler {
  /** Cumulative weights normalised to end at exactly 1. */
  private readonly cdf: Float64Array;

  constructor(weights: readonly number[]) {
    if (weights.length === 0) throw new RangeError('IndexSampler needs at least one weight');
    let total = 0;
    for (const w of weights) {
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weights must be finite and >= 0, got ${w}`);
      total += w;
    }
    if (total <= 0) throw new RangeError('weights must not all be zero');
    this.cdf = new Float64Array(weights.length);
    let running = 0;
    for (let i = 0; i < weights.length; i++) {
      running += weights[i] ?? 0;
      this.cdf[i] = running / total;
    }
    this.cdf[weights.length - 1] = 1; // rounding must never leave the last bucket unreachable
  }

  get size(): number {
    return this.cdf.length;
  }

  /** Binary search for the first bucket whose cumulative weight exceeds a uniform draw. */
  sample(random: Random): number {
    const u = random.next();
    const cdf = this.cdf;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u < cdf[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Picks items with probability proportional to their weights. */
export class WeightedSampler<T> {
  private readonly indices: IndexSampler;

  constructor(
    private readonly items: readonly T[],
    weights: readonly number[],
  ) {
    if (items.length !== weights.length) throw new RangeError('items and weights must have the same length');
    this.indices = new IndexSampler(weights);
  }

  sample(random: Random): T {
    return this.items[this.indices.sample(random)] as T;
  }
}

export function createWeightedSampler<T>(entries: readonly (readonly [item: T, weight: number])[]): WeightedSampler<T> {
  return new WeightedSampler(
    entries.map(([item]) => item),
    entries.map(([, weight]) => weight),
  );
}

/**
 * Zipf over ranks 0..n-1: P(rank k) ∝ 1 / (k + 1)^exponent. Rank 0 is the most popular.
 * The CDF is precomputed once; each draw is a binary search.
 */
export function createZipfSampler(n: number, exponent: number): IndexSampler {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Zipf needs n >= 1, got ${n}`);
  const weights = new Array<number>(n);
  for (let k = 0; k < n; k++) weights[k] = 1 / (k + 1) ** exponent;
  return new IndexSampler(weights);
}
