import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { aggregateBatch } from '../../../src/windows/aggregateBatch.js';
import type { PageViewBatch } from '../../../src/windows/pageViewBatch.js';
import { PageViewWindows, type EmittedWindow } from '../../../src/windows/pageViewWindows.js';
import { windowStartMs } from '../../../src/windows/tumblingWindows.js';
import { DELAY_MS, IDLE_MS, M, OPTIONS, SIZE_MS, rowsOf } from './fixtures.js';

/**
 * Random event streams over 4 partitions, cut into random batches interleaved at random, with
 * random checkpoints, crashes (restore + replay from the stored offsets), clean restores and
 * duplicate batches. The outcome is checked against a brute-force model that recomputes the
 * watermark from every event applied so far.
 */

const PARTITIONS = [0, 1, 2, 3];
const URLS = ['/a', '/b', '/c', '/d'];

interface Event {
  readonly eventTimeMs: number;
  readonly url: string;
}

/** Per partition, events in offset order. Out of order by less than the delay, plus an optional share of old events. */
function generateStreams(random: () => number, oldShare: number): Event[][] {
  return PARTITIONS.map(() => {
    const count = 30 + Math.floor(random() * 90);
    const speedMs = 500 + Math.floor(random() * 4_000); // partitions advance at different rates
    let clockMs = M + Math.floor(random() * SIZE_MS);
    const events: Event[] = [];
    for (let i = 0; i < count; i += 1) {
      clockMs += Math.floor(random() * speedMs);
      const old = random() < oldShare;
      const eventTimeMs = old
        ? clockMs - DELAY_MS - Math.floor(random() * 3 * SIZE_MS)
        : clockMs - Math.floor(random() * DELAY_MS);
      events.push({ eventTimeMs, url: URLS[Math.floor(random() * URLS.length)]! });
    }
    return events;
  });
}

/** What the model keeps per applied batch. */
interface AppliedBatch {
  readonly partition: number;
  readonly events: readonly Event[];
  readonly knownWatermarkMs: number;
}

/**
 * Brute force: the global watermark after each prefix of the applied batches (index k = after k
 * batches), from the events alone (no idleness before the end).
 */
function modelGlobalWatermarks(applied: readonly AppliedBatch[]): number[] {
  const globals = [-Infinity];
  const maxByPartition = new Map<number, number>();
  for (const batch of applied) {
    for (const e of batch.events)
      maxByPartition.set(batch.partition, Math.max(maxByPartition.get(batch.partition) ?? -Infinity, e.eventTimeMs));
    const minMs = Math.min(...PARTITIONS.map((p) => (maxByPartition.get(p) ?? -Infinity) - DELAY_MS));
    globals.push(Math.max(globals[globals.length - 1]!, minMs));
  }
  return globals;
}

/** Late per the contract: its window was closed at the watermark the partition knew, or at the aggregator's. */
function isLate(e: Event, knownWatermarkMs: number, globalBeforeMs: number): boolean {
  return windowStartMs(e.eventTimeMs, SIZE_MS) + SIZE_MS <= Math.max(knownWatermarkMs, globalBeforeMs);
}

interface Outcome {
  committed: EmittedWindow[];
  final: PageViewWindows;
  applied: AppliedBatch[];
  /** Global watermark the aggregator reported after each applied batch (index 0: before any). */
  history: number[];
  crashes: number;
  duplicatesIgnored: number;
}

function run(seed: number, oldShare: number): { streams: Event[][]; outcome: Outcome } {
  const random = mulberry32(seed);
  const streams = generateStreams(random, oldShare);
  let nowMs = 0;
  let w = new PageViewWindows(OPTIONS);
  for (const p of PARTITIONS) w.assignPartition(p, nowMs);

  // The committed path: what survives crashes.
  let checkpoint = { json: JSON.stringify(w), appliedLength: 0, history: [-Infinity] };
  let applied: AppliedBatch[] = [];
  let history = [-Infinity]; // global watermarks the aggregator has sent, oldest first
  const committed: EmittedWindow[] = [];
  let pending: EmittedWindow[] = [];
  const sentBatches: PageViewBatch[] = [];
  let crashes = 0;
  let duplicatesIgnored = 0;

  const nextIndex = (p: number): number => {
    const offset = w.offsetOf(p);
    return offset === null ? 0 : Number(offset) + 1;
  };
  const remaining = () => PARTITIONS.filter((p) => nextIndex(p) < streams[p]!.length);

  for (let guard = 0; remaining().length > 0; guard += 1) {
    if (guard > 10_000) throw new Error(`seed ${seed}: no progress`);
    nowMs += 10; // far below idleTimeoutMs over the whole run: nobody goes idle before the end
    const roll = random();
    if (roll < 0.04) {
      // Checkpoint: state and its emissions become durable together.
      committed.push(...pending);
      pending = [];
      checkpoint = { json: JSON.stringify(w), appliedLength: applied.length, history: [...history] };
      continue;
    }
    if (roll < 0.06) {
      // Crash: everything since the checkpoint is lost; partitions are read again from its offsets.
      crashes += 1;
      pending = [];
      w = PageViewWindows.fromJSON(checkpoint.json, OPTIONS, nowMs);
      applied = applied.slice(0, checkpoint.appliedLength);
      history = [...checkpoint.history];
      continue;
    }
    if (roll < 0.08) {
      // Clean restore in place: the state must come back equal.
      const before = JSON.stringify(w);
      w = PageViewWindows.fromJSON(JSON.parse(before), OPTIONS, nowMs);
      if (JSON.stringify(w) !== before) throw new Error(`seed ${seed}: restored state differs`);
      continue;
    }
    if (roll < 0.12 && sentBatches.length > 0) {
      // A duplicate of a batch already sent: ignored if its offset is at or below the stored one.
      const batch = sentBatches[Math.floor(random() * sentBatches.length)]!;
      const stored = w.offsetOf(batch.partition);
      if (stored !== null && BigInt(batch.lastOffset) <= BigInt(stored)) {
        const before = JSON.stringify(w);
        if (w.applyBatch(batch, nowMs).applied) throw new Error(`seed ${seed}: a replayed batch was applied`);
        if (JSON.stringify(w) !== before) throw new Error(`seed ${seed}: a replayed batch changed the state`);
        duplicatesIgnored += 1;
      }
      continue;
    }

    const candidates = remaining();
    const p = candidates[Math.floor(random() * candidates.length)]!;
    const from = nextIndex(p);
    const to = Math.min(streams[p]!.length, from + 1 + Math.floor(random() * 6));
    const events = streams[p]!.slice(from, to);
    // The partition actor may know an older watermark than the real one.
    const lag = Math.floor(random() * 4);
    const knownWatermarkMs = history[Math.max(0, history.length - 1 - lag)]!;
    const batch: PageViewBatch = {
      partition: p,
      lastOffset: String(to - 1),
      caughtUp: to === streams[p]!.length,
      ...aggregateBatch(events, knownWatermarkMs, SIZE_MS),
    };
    if (!w.applyBatch(batch, nowMs).applied) throw new Error(`seed ${seed}: a new batch was not applied`);
    sentBatches.push(batch);
    applied.push({ partition: p, events, knownWatermarkMs });
    history.push(w.globalWatermarkMs);
    if (random() < 0.7) pending.push(...w.emitReady(nowMs));
  }

  // The stream is quiet: every partition caught up, so after idleTimeoutMs all are idle.
  pending.push(...w.emitReady(nowMs + IDLE_MS));
  committed.push(...pending);

  return { streams, outcome: { committed, final: w, applied, history, crashes, duplicatesIgnored } };
}

/** Model counts per (window, url) of the on-time events, split into closed (by `finalGlobalMs`) and open. */
function expectedCounts(applied: readonly AppliedBatch[], globals: readonly number[], finalGlobalMs: number) {
  const counts = new Map<string, [number, string, number]>();
  let late = 0;
  for (let k = 0; k < applied.length; k += 1) {
    for (const e of applied[k]!.events) {
      if (isLate(e, applied[k]!.knownWatermarkMs, globals[k]!)) {
        late += 1;
        continue;
      }
      const startMs = windowStartMs(e.eventTimeMs, SIZE_MS);
      const key = `${startMs} ${e.url}`;
      const row = counts.get(key) ?? [startMs, e.url, 0];
      row[2] += 1;
      counts.set(key, row);
    }
  }
  const sorted = [...counts.values()].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return {
    late,
    closed: sorted.filter(([startMs]) => startMs + SIZE_MS <= finalGlobalMs),
    open: sorted.filter(([startMs]) => startMs + SIZE_MS > finalGlobalMs),
  };
}

function openRows(w: PageViewWindows): Array<[number, string, number]> {
  return w
    .toJSON()
    .openWindows.flatMap((win) => win.counts.map((c): [number, string, number] => [win.startMs, c.url, c.count]));
}

function checkAgainstModel(seed: number, outcome: Outcome): number {
  const { committed, final, applied } = outcome;
  const starts = committed.map((e) => e.startMs);
  expect(new Set(starts).size, `seed ${seed}: a window was emitted twice`).toBe(starts.length);
  expect(
    [...starts].sort((a, b) => a - b),
    `seed ${seed}: emission order`,
  ).toEqual(starts);

  const lastMaxMs = Math.max(
    ...PARTITIONS.map((p) =>
      Math.max(...applied.filter((b) => b.partition === p).flatMap((b) => b.events.map((e) => e.eventTimeMs))),
    ),
  );
  const globals = modelGlobalWatermarks(applied);
  expect(outcome.history, `seed ${seed}: global watermark after each batch`).toEqual(globals);
  const finalGlobalMs = Math.max(globals[globals.length - 1]!, lastMaxMs - DELAY_MS);
  expect(final.globalWatermarkMs, `seed ${seed}: all idle → max of the watermarks`).toBe(finalGlobalMs);

  const expected = expectedCounts(applied, globals, finalGlobalMs);
  expect(rowsOf(committed), `seed ${seed}: emitted pv`).toEqual(expected.closed);
  expect(openRows(final), `seed ${seed}: open windows`).toEqual(expected.open);
  expect(final.lateEventsTotal, `seed ${seed}: lateEventsTotal`).toBe(expected.late);
  return expected.late;
}

const SEEDS = Array.from({ length: 150 }, (_, i) => i + 1);

describe('PageViewWindows property: random streams, checkpoints, crashes and replays', () => {
  it('events out of order within the delay are all counted, exactly once, whatever the crashes', () => {
    let crashes = 0;
    let duplicates = 0;
    for (const seed of SEEDS) {
      const { streams, outcome } = run(seed, 0);
      checkAgainstModel(seed, outcome);
      // Brute force straight from the streams: every event is on time.
      const brute = new Map<string, [number, string, number]>();
      for (const e of streams.flat()) {
        const startMs = windowStartMs(e.eventTimeMs, SIZE_MS);
        const row = brute.get(`${startMs} ${e.url}`) ?? [startMs, e.url, 0];
        row[2] += 1;
        brute.set(`${startMs} ${e.url}`, row);
      }
      const all = [...rowsOf(outcome.committed), ...openRows(outcome.final)].sort(
        (a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0),
      );
      const bruteSorted = [...brute.values()].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
      expect(all, `seed ${seed}`).toEqual(bruteSorted);
      expect(outcome.final.lateEventsTotal, `seed ${seed}`).toBe(0);
      crashes += outcome.crashes;
      duplicates += outcome.duplicatesIgnored;
    }
    // The run is not vacuous: crashes and duplicates did happen.
    expect(crashes).toBeGreaterThan(SEEDS.length);
    expect(duplicates).toBeGreaterThan(SEEDS.length);
  });

  it('with old events and stale known watermarks, emissions and lateEventsTotal match the model', () => {
    let late = 0;
    let crashes = 0;
    for (const seed of SEEDS) {
      const { outcome } = run(10_000 + seed, 0.1);
      late += checkAgainstModel(10_000 + seed, outcome);
      crashes += outcome.crashes;
    }
    expect(late).toBeGreaterThan(SEEDS.length);
    expect(crashes).toBeGreaterThan(SEEDS.length);
  });
});
