import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { aggregateBatch } from '../../../src/windows/aggregateBatch.js';
import { PageViewWindows } from '../../../src/windows/pageViewWindows.js';
import { decodeRepartitionRecord, type PageViewRepartitionRecord } from '../../../src/windows/repartitionRecords.js';
import { type Stage1Batch, Stage1Counts } from '../../../src/windows/stage1Counts.js';
import {
  apply,
  closeWindows,
  createStage2State,
  globalWatermark,
  restore,
  type Stage2State,
  snapshot,
} from '../../../src/windows/stage2Windows.js';
import { DELAY_MS, IDLE_MS, M, OPTIONS, SIZE_MS, rowsOf } from './fixtures.js';

/**
 * The two window stages against the one-process rule: random clickstream partitions (events out of order within the
 * delay, a share of old events that are late), read in random steps, committed (stage 1 drains) at random, owners
 * taken over at random (the uncommitted counts lost, the partition re-read from an earlier offset), stage 2 tasks
 * crashing back to their last commit at random, the topic growing from 4 to 6 partitions. After every round the rows
 * emitted by the R = 3 stage 2 tasks together, their late counts and their global watermarks equal those of one
 * PageViewWindows (the window aggregator's state) fed the same commits' events in the same order.
 */

const R = 3;
const URLS = ['/', '/a', '/b', '/c', '/cart', '/checkout', '/search', '/products/1', '/products/2', '/products/3'];

interface Event {
  readonly eventTimeMs: number;
  readonly url: string;
}

interface Batch {
  readonly lastOffset: number;
  readonly events: readonly Event[];
}

type Row = [number, string, number];

/** One partition's batches in offset order: gaps between offsets (markers, invalid records), 1..8 events each. */
function generateBatches(random: () => number, startMs: number, oldShare: number): Batch[] {
  const count = 40 + Math.floor(random() * 120);
  const speedMs = 500 + Math.floor(random() * 4_000);
  let clockMs = startMs;
  let offset = -1;
  const batches: Batch[] = [];
  let i = 0;
  while (i < count) {
    const size = 1 + Math.floor(random() * 8);
    const events: Event[] = [];
    for (let j = 0; j < size && i < count; j++, i++) {
      clockMs += Math.floor(random() * speedMs);
      const old = random() < oldShare;
      const eventTimeMs = old
        ? clockMs - DELAY_MS - Math.floor(random() * 3 * SIZE_MS)
        : clockMs - Math.floor(random() * DELAY_MS);
      events.push({ eventTimeMs, url: URLS[Math.floor(random() * URLS.length)]! });
      offset += 1 + (random() < 0.2 ? Math.floor(random() * 3) : 0);
    }
    batches.push({ lastOffset: offset, events });
  }
  return batches;
}

/** What the partition actor computes for a batch, with no known watermark (stage 2 judges lateness). */
function stage1Batch(lastOffset: number, events: readonly Event[]): Stage1Batch {
  return { lastOffset: String(lastOffset), ...aggregateBatch(events, -Infinity, SIZE_MS) };
}

/** A clickstream partition and its current owner's stage 1. */
interface Source {
  readonly partition: number;
  readonly batches: Batch[];
  counts: Stage1Counts;
  /** Next batch to read. */
  next: number;
  /** Events counted since the last drain (what the one-process aggregator gets at that commit). */
  pending: Event[];
  /** The commit: `win` and the max event time (as commit metadata would carry them), and the next batch after it. */
  committed: { win: string | null; maxEventTimeMs: number; next: number };
}

/** A stage 2 task with its last commit (state snapshot, rows and late counts written with it). */
interface Task {
  state: Stage2State;
  /** Next offset of its repartition partition to read. */
  position: number;
  rows: Row[];
  lateReported: number;
  committed: { snapshot: string; rows: number; lateReported: number };
}

interface Scenario {
  readonly seed: number;
  readonly oldShare: number;
  /** Round at which partitions 4 and 5 appear; none if undefined. */
  readonly growAtRound?: number;
  readonly takeovers: boolean;
  readonly taskCrashes: boolean;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function sortRows(rows: readonly Row[]): Row[] {
  return [...rows].sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
}

interface Outcome {
  readonly rows: number;
  /** Rows emitted before the stream ended (windows closed by the watermark while running). */
  readonly rowsWhileRunning: number;
  readonly late: number;
  readonly takeovers: number;
  readonly crashes: number;
}

function run(scenario: Scenario): Outcome {
  const random = mulberry32(scenario.seed);
  const reference = new PageViewWindows(OPTIONS);
  const sources: Source[] = [];
  const addSource = (startMs: number): void => {
    const partition = sources.length;
    sources.push({
      partition,
      batches: generateBatches(random, startMs, scenario.oldShare),
      counts: new Stage1Counts({ sizeMs: SIZE_MS, winFloor: null }),
      next: 0,
      pending: [],
      committed: { win: null, maxEventTimeMs: -Infinity, next: 0 },
    });
    reference.assignPartition(partition, 0);
  };
  for (let p = 0; p < 4; p++) addSource(M + Math.floor(random() * SIZE_MS));

  const topic: PageViewRepartitionRecord[][] = Array.from({ length: R }, () => []);
  const tasks: Task[] = Array.from({ length: R }, (_, r) => {
    const state = createStage2State({ partition: r, partitions: R, sizeMs: SIZE_MS });
    return {
      state,
      position: 0,
      rows: [],
      lateReported: 0,
      committed: { snapshot: JSON.stringify(snapshot(state)), rows: 0, lateReported: 0 },
    };
  });
  const referenceRows: Row[] = [];
  let takeovers = 0;
  let crashes = 0;

  const drain = (source: Source, idle: boolean): void => {
    const lastRead = source.next > 0 ? String(source.batches[source.next - 1]!.lastOffset) : null;
    const { records, win } = source.counts.drain({
      watermarkMs: source.counts.maxEventTimeMs - DELAY_MS,
      idle,
      partitionCount: sources.length,
      repartitions: R,
      sourcePartition: source.partition,
      lastOffset: lastRead,
    });
    // The records go through the codec, as through Kafka.
    for (const message of records) topic[message.partition]!.push(decodeRepartitionRecord(message.key, message.value));
    if (source.pending.length > 0) {
      const aggregated = aggregateBatch(source.pending, -Infinity, SIZE_MS);
      reference.applyBatch({ partition: source.partition, lastOffset: win!, caughtUp: false, ...aggregated }, 0);
    }
    source.pending = [];
    // A new owner still re-reading below the floor commits the same floor.
    const next = Math.max(source.committed.next, source.next);
    source.committed = { win, maxEventTimeMs: source.counts.maxEventTimeMs, next };
  };

  /** A new owner: the uncommitted counts are lost; it re-reads from an offset at or before the committed floor. */
  const takeOver = (source: Source): void => {
    takeovers += 1;
    source.counts = new Stage1Counts({
      sizeMs: SIZE_MS,
      winFloor: source.committed.win,
      maxEventTimeMs: source.committed.maxEventTimeMs,
    });
    source.next = Math.max(0, source.committed.next - Math.floor(random() * 6));
    source.pending = [];
  };

  const consume = (task: Task, upTo: number): void => {
    const log = topic[task.state.partition]!;
    for (; task.position < Math.min(upTo, log.length); task.position++)
      task.state = apply(task.state, log[task.position]!, String(task.position));
  };

  const closeAndCommit = (task: Task): void => {
    const result = closeWindows(task.state);
    task.state = result.state;
    task.rows.push(...result.rows.map((r): Row => [r.minuteStartMs, r.url, r.pv]));
    task.lateReported += result.lateCounts.reduce((n, l) => n + l.count, 0);
    task.committed = {
      snapshot: JSON.stringify(snapshot(task.state)),
      rows: task.rows.length,
      lateReported: task.lateReported,
    };
  };

  /** Back to the last commit: rows and late counts since are lost, records after its offset are read again. */
  const crash = (task: Task): void => {
    crashes += 1;
    task.state = restore(task.committed.snapshot, { partition: task.state.partition, partitions: R, sizeMs: SIZE_MS });
    task.rows.length = task.committed.rows;
    task.lateReported = task.committed.lateReported;
    task.position = task.state.offset === null ? 0 : Number(task.state.offset) + 1;
  };

  const checkRound = (round: number): void => {
    for (const task of tasks) {
      consume(task, Infinity);
      closeAndCommit(task);
    }
    referenceRows.push(...rowsOf(reference.emitReady(0)));
    const rows = sortRows(tasks.flatMap((t) => t.rows));
    expect(rows, `round ${round}`).toEqual(sortRows(referenceRows));
    const late = tasks.reduce((n, t) => n + t.state.lateEventsTotal, 0);
    expect(late, `round ${round}: late events`).toBe(reference.lateEventsTotal);
    expect(tasks.reduce((n, t) => n + t.lateReported, 0)).toBe(late);
    for (const task of tasks) expect(globalWatermark(task.state), `round ${round}`).toBe(reference.globalWatermarkMs);
  };

  let round = 0;
  while (sources.some((s) => s.next < s.batches.length)) {
    round += 1;
    if (round === scenario.growAtRound) {
      const maxMs = Math.max(...sources.map((s) => s.counts.maxEventTimeMs));
      const clockMs = Number.isFinite(maxMs) ? maxMs : M;
      for (let k = 0; k < 2; k++) addSource(clockMs - Math.floor(random() * SIZE_MS));
    }
    const order = shuffle(
      sources.map((s) => s.partition),
      random,
    );
    for (const p of order) {
      const source = sources[p]!;
      const reads = Math.floor(random() * 4);
      for (let k = 0; k < reads && source.next < source.batches.length; k++) {
        // Counted iff no commit covers it yet (the model's own bookkeeping, not stage 1's answer).
        const uncommitted = source.next >= source.committed.next;
        const batch = source.batches[source.next++]!;
        expect(source.counts.add(stage1Batch(batch.lastOffset, batch.events))).toBe(uncommitted);
        if (uncommitted) source.pending.push(...batch.events);
      }
      if (scenario.takeovers && random() < 0.08) takeOver(source);
      else if (random() < 0.7) drain(source, false);
      // Stage 2 tasks read part of their partitions now and then, and may crash.
      for (const task of tasks) {
        if (random() < 0.3) consume(task, task.position + Math.floor(random() * 4));
        if (random() < 0.1) closeAndCommit(task);
        if (scenario.taskCrashes && random() < 0.05) crash(task);
      }
    }
    checkRound(round);
  }
  const rowsWhileRunning = referenceRows.length;
  // The stream ends: every partition commits what it read, then reports idle; the last windows close.
  for (const source of sources) drain(source, false);
  for (const source of sources) drain(source, true);
  for (const source of sources) reference.setCaughtUp(source.partition, true);
  referenceRows.push(...rowsOf(reference.emitReady(IDLE_MS)));
  checkRound(round + 1);
  // What is still open (windows ending after the last watermark) is the same too.
  const referenceOpen = reference
    .toJSON()
    .openWindows.flatMap((w) => w.counts.map((c): Row => [w.startMs, c.url, c.count]));
  const open = tasks.flatMap((t) =>
    [...t.state.open].flatMap(([startMs, byUrl]) => [...byUrl].map(([url, count]): Row => [startMs, url, count])),
  );
  expect(sortRows(open)).toEqual(sortRows(referenceOpen));

  // Each (minute, url) once, in exactly one task: the one its url is routed to.
  const rows = tasks.flatMap((t) => t.rows);
  expect(new Set(rows.map(([m, url]) => `${m} ${url}`)).size).toBe(rows.length);
  return { rows: rows.length, rowsWhileRunning, late: reference.lateEventsTotal, takeovers, crashes };
}

describe('stage 1 → stage 2 equals the one-process window aggregator', () => {
  it('in order, out of order and late events, 4 partitions, R = 3', () => {
    let late = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const outcome = run({ seed, oldShare: 0.08, takeovers: false, taskCrashes: false });
      expect(outcome.rowsWhileRunning).toBeGreaterThan(0);
      expect(outcome.rows).toBeGreaterThan(outcome.rowsWhileRunning);
      late += outcome.late;
    }
    expect(late).toBeGreaterThan(0);
  });

  it('with takeovers of clickstream partitions and stage 2 tasks crashing back to their last commit', () => {
    let takeovers = 0;
    let crashes = 0;
    for (let seed = 101; seed <= 112; seed++) {
      const outcome = run({ seed, oldShare: 0.08, takeovers: true, taskCrashes: true });
      takeovers += outcome.takeovers;
      crashes += outcome.crashes;
    }
    expect(takeovers).toBeGreaterThan(10);
    expect(crashes).toBeGreaterThan(10);
  });

  it('with the topic growing from 4 to 6 partitions while running', () => {
    for (let seed = 201; seed <= 210; seed++)
      run({ seed, oldShare: 0.05, growAtRound: 3 + (seed % 5), takeovers: seed % 2 === 0, taskCrashes: true });
  });
});

describe('stage 2 determinism', () => {
  /** One task's log from a real run of stage 1. */
  function logOf(seed: number, r: number): PageViewRepartitionRecord[] {
    const random = mulberry32(seed);
    const sources = Array.from({ length: 4 }, (_, p) => ({
      partition: p,
      batches: generateBatches(random, M + Math.floor(random() * SIZE_MS), 0.1),
      counts: new Stage1Counts({ sizeMs: SIZE_MS, winFloor: null }),
      next: 0,
    }));
    const log: PageViewRepartitionRecord[] = [];
    const drain = (s: (typeof sources)[number], idle: boolean): void => {
      const { records } = s.counts.drain({
        watermarkMs: s.counts.maxEventTimeMs - DELAY_MS,
        idle,
        partitionCount: 4,
        repartitions: R,
        sourcePartition: s.partition,
        lastOffset: s.next > 0 ? String(s.batches[s.next - 1]!.lastOffset) : null,
      });
      const message = records[r]!;
      log.push(decodeRepartitionRecord(message.key, message.value));
    };
    while (sources.some((s) => s.next < s.batches.length)) {
      const s = sources[Math.floor(random() * 4)]!;
      for (let k = Math.floor(random() * 3); k > 0 && s.next < s.batches.length; k--) {
        const b = s.batches[s.next++]!;
        s.counts.add(stage1Batch(b.lastOffset, b.events));
      }
      drain(s, false);
    }
    for (const s of sources) drain(s, true);
    return log;
  }

  /** Applies `log` from `state`, closing after every `closeEvery` records; rows and late counts as they come out. */
  function play(state: Stage2State, log: readonly PageViewRepartitionRecord[], from: number, closeEvery: number) {
    let s = state;
    const out: unknown[] = [];
    for (let i = from; i < log.length; i++) {
      s = apply(s, log[i]!, String(i));
      if ((i + 1) % closeEvery === 0 || i === log.length - 1) {
        const result = closeWindows(s);
        s = result.state;
        out.push({ at: i, rows: result.rows, late: result.lateCounts });
      }
    }
    return { state: s, out };
  }

  it('the same records give the same rows; a snapshot/restore at any point changes nothing', () => {
    for (const seed of [7, 8]) {
      for (let r = 0; r < R; r++) {
        const log = logOf(seed, r);
        expect(log.length).toBeGreaterThan(50);
        const fresh = () => createStage2State({ partition: r, partitions: R, sizeMs: SIZE_MS });
        for (const closeEvery of [1, 5]) {
          const baseline = play(fresh(), log, 0, closeEvery);
          const rows = baseline.out.flatMap((o) => (o as { rows: unknown[] }).rows);
          expect(rows.length).toBeGreaterThan(0);
          expect(play(fresh(), log, 0, closeEvery)).toEqual(baseline);
          const finalSnapshot = JSON.stringify(snapshot(baseline.state));
          for (let cut = 0; cut <= log.length; cut++) {
            // Run to `cut`, snapshot through JSON, restore, go on.
            const first = play(fresh(), log.slice(0, cut), 0, closeEvery);
            const restored = restore(JSON.stringify(snapshot(first.state)), {
              partition: r,
              partitions: R,
              sizeMs: SIZE_MS,
            });
            const second = play(restored, log, cut, closeEvery);
            expect(JSON.stringify(snapshot(second.state))).toBe(finalSnapshot);
            if (cut % closeEvery === 0) expect([...first.out, ...second.out]).toEqual(baseline.out);
            // Restored and fed the whole log again: what it applied already is skipped by offset.
            if (cut % 10 === 0)
              expect(JSON.stringify(snapshot(play(restored, log, 0, closeEvery).state))).toBe(finalSnapshot);
          }
        }
      }
    }
  });
});
