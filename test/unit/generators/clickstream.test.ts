import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../../src/events/validate.js';
import type { ClickstreamEvent } from '../../../src/events/types.js';
import {
  buildShopCatalogue,
  createClickstreamGenerator,
  LANDING_REFERRER_MIX,
  SHOP_ORIGIN,
  USER_AGENTS,
} from '../../../src/generators/clickstream.js';
import { CapturingSink } from './capturingSink.js';

const NOW_MS = Date.UTC(2024, 4, 1, 12, 0, 0);
const COUNT = 50_000;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function generate(seed: number, count: number, options: { users?: number; pages?: number } = {}): ClickstreamEvent[] {
  const generator = createClickstreamGenerator({ seed, ...options });
  // A new millisecond every 100 events, as a producer batch would see.
  return Array.from({ length: count }, (_, i) => generator.next(NOW_MS + Math.floor(i / 100)));
}

const events = generate(1, COUNT);

function isInternal(referrer: string | null | undefined): boolean {
  return typeof referrer === 'string' && referrer.startsWith(`${SHOP_ORIGIN}/`);
}

describe('clickstream generator', () => {
  it('produces events that all pass the ETL decoder, with the fields intact', () => {
    const opts = { maxEventBytes: 64 * 1024, maxFutureSkewMs: 3_600_000, recordTimestampMs: NOW_MS };
    const problems: string[] = [];
    for (const [i, event] of events.entries()) {
      const result = decodeEvent('clickstream', Buffer.from(JSON.stringify(event)), opts);
      if (!result.ok) problems.push(`event ${i} rejected: ${result.reason} ${result.detail}`);
      else if (
        result.row.event_id !== event.event_id ||
        result.row.url !== event.url ||
        result.row.tsMs !== NOW_MS + Math.floor(i / 100)
      ) {
        problems.push(`event ${i} altered: ${JSON.stringify(result.row)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("writes its events' JSON as JSON.stringify does, for every event of several seeds and shards", () => {
    for (const [seed, shard] of [
      [1, undefined],
      [2, { index: 1, count: 3 }],
      [3, { index: 0, count: 2 }],
    ] as const) {
      const generator = createClickstreamGenerator({ seed, ...(shard ? { shard } : {}) });
      for (let i = 0; i < 20_000; i++) {
        const event = generator.next(NOW_MS + i);
        const json = generator.toJson(event);
        if (json !== JSON.stringify(event)) expect(json).toBe(JSON.stringify(event));
      }
    }
    // Shapes it never makes, written by JSON.stringify.
    const generator = createClickstreamGenerator({ seed: 1 });
    const event = generator.next(NOW_MS);
    for (const odd of [
      { ...event, referrer: null },
      { ...event, ts: NOW_MS },
      { ...event, referrer: undefined },
    ])
      expect(generator.toJson(odd)).toBe(JSON.stringify(odd));
  });

  it('writes the records of the events next() would make: keyed by user id, the bytes of JSON.stringify', () => {
    for (const [seed, shard] of [
      [1, undefined],
      [2, { index: 1, count: 3 }],
      [3, { index: 0, count: 2 }],
    ] as const) {
      const made = createClickstreamGenerator({ seed, ...(shard ? { shard } : {}) });
      const written = createClickstreamGenerator({ seed, ...(shard ? { shard } : {}) });
      const sink = new CapturingSink();
      const expected: Array<{ key: string; value: string }> = [];
      for (let i = 0; i < 20_000; i++) {
        // A new millisecond every 7 events, and one far in the future (a longer ISO year).
        const nowMs = i === 19_999 ? 253_402_300_800_000 : NOW_MS + Math.floor(i / 7);
        const event = made.next(nowMs);
        expected.push({ key: event.user_id, value: JSON.stringify(event) });
        written.writeNext(nowMs, sink);
      }
      const records = sink.take();
      const firstDifferent = records.findIndex((r, i) => r.key !== expected[i]!.key || r.value !== expected[i]!.value);
      expect(firstDifferent === -1 ? undefined : [records[firstDifferent], expected[firstDifferent]]).toBeUndefined();
      expect(records).toHaveLength(expected.length);
      expect(written.stats()).toEqual(made.stats());
    }
  });

  it('has well-formed fields', () => {
    const ids = new Set<string>();
    const malformed = events.filter(
      (event) =>
        !UUID_V4.test(event.event_id) ||
        !/^u-\d{6}$/.test(event.user_id) ||
        !event.url.startsWith(`${SHOP_ORIGIN}/`) ||
        typeof event.ts !== 'string',
    );
    expect(malformed).toEqual([]);
    for (const event of events) ids.add(event.event_id);
    expect(ids.size).toBe(COUNT);
    expect(events[0]!.ts).toBe('2024-05-01T12:00:00.000Z');
    expect(events[COUNT - 1]!.ts).toBe(new Date(NOW_MS + Math.floor((COUNT - 1) / 100)).toISOString());
  });

  it('is deterministic under a seed and differs between seeds', () => {
    expect(generate(7, 2000)).toEqual(generate(7, 2000));
    const other = generate(8, 2000);
    const same = generate(7, 2000);
    expect(other.map((e) => e.event_id)).not.toEqual(same.map((e) => e.event_id));
    expect(other.map((e) => e.user_id)).not.toEqual(same.map((e) => e.user_id));
  });

  it('nextBatch() continues the same sequence as next()', () => {
    const a = createClickstreamGenerator({ seed: 3 });
    const b = createClickstreamGenerator({ seed: 3 });
    const batched = [...a.nextBatch(10, NOW_MS), ...a.nextBatch(5, NOW_MS)];
    expect(batched).toEqual(Array.from({ length: 15 }, () => b.next(NOW_MS)));
  });

  it('describes the same site whatever the seed', () => {
    expect(createClickstreamGenerator({ seed: 1 }).urls).toEqual(createClickstreamGenerator({ seed: 2 }).urls);
    const catalogue = buildShopCatalogue(300);
    expect(catalogue).toHaveLength(300);
    expect(new Set(catalogue.map((page) => page.url)).size).toBe(300);
    expect(catalogue[0]!.url).toBe(`${SHOP_ORIGIN}/`);
    expect(catalogue.some((page) => page.url.includes('/p/'))).toBe(true);
    expect(catalogue.some((page) => page.url.includes('/c/'))).toBe(true);
    expect(catalogue.some((page) => page.url.includes('/blog/'))).toBe(true);
  });

  it('skews page popularity (Zipf): the top page far above the median page, top 10% over half the views', () => {
    const counts = new Map<string, number>();
    for (const event of events) counts.set(event.url, (counts.get(event.url) ?? 0) + 1);
    const sorted = [...counts.values()].sort((a, b) => b - a);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    expect(sorted[0]!).toBeGreaterThanOrEqual(5 * median);
    const top10Percent = sorted.slice(0, 30).reduce((sum, n) => sum + n, 0);
    expect(top10Percent / COUNT).toBeGreaterThan(0.5);
    expect(counts.size).toBeGreaterThan(250); // the long tail is visited too
  });

  it('groups page views in sessions of about 5 pages, chained by referrer', () => {
    // Per user, a view whose referrer is an internal page continues that user's session.
    const lastUrlByUser = new Map<string, string>();
    let sessionStarts = 0;
    let chainedToPrevious = 0;
    let continuations = 0;
    for (const event of events) {
      if (isInternal(event.referrer)) {
        continuations++;
        if (lastUrlByUser.get(event.user_id) === event.referrer) chainedToPrevious++;
      } else {
        sessionStarts++;
      }
      lastUrlByUser.set(event.user_id, event.url);
    }
    const pagesPerSession = COUNT / sessionStarts;
    expect(pagesPerSession).toBeGreaterThan(3);
    expect(pagesPerSession).toBeLessThan(8);
    // Most continuations name the user's previous page; the rest go back to the landing page.
    expect(chainedToPrevious / continuations).toBeGreaterThan(0.8);

    const stats = createClickstreamGenerator({ seed: 1 }).stats();
    expect(stats.events).toBe(0);
    const generator = createClickstreamGenerator({ seed: 1 });
    generator.nextBatch(COUNT, NOW_MS);
    const after = generator.stats();
    expect(after.events).toBe(COUNT);
    const meanPages = after.pagesInCompletedSessions / after.sessionsCompleted;
    expect(meanPages).toBeGreaterThan(4.5);
    expect(meanPages).toBeLessThan(5.5);
  });

  it('a user views several pages: most users with a session have more than one view', () => {
    const viewsByUser = new Map<string, number>();
    for (const event of events) viewsByUser.set(event.user_id, (viewsByUser.get(event.user_id) ?? 0) + 1);
    const multiPage = [...viewsByUser.values()].filter((n) => n > 1).length;
    expect(multiPage / viewsByUser.size).toBeGreaterThan(0.6);
    expect(viewsByUser.size).toBeGreaterThan(5000); // many distinct users, not a handful
  });

  it('mixes landing referrers as designed: direct, search, social, other', () => {
    const landings = events.filter((event) => !isInternal(event.referrer));
    const share = (predicate: (referrer: string) => boolean): number =>
      landings.filter((event) => predicate(event.referrer ?? '')).length / landings.length;
    const direct = share((r) => r === '');
    const search = share((r) => /^https:\/\/(www\.google\.com|www\.bing\.com|duckduckgo\.com)\/.*q=[^&]+/.test(r));
    const social = share((r) => /(t\.co|facebook|reddit|instagram|linkedin|youtube|pinterest)/.test(r));
    const humanShare =
      1 -
      USER_AGENTS.filter((a) => a.bot).reduce((s, a) => s + a.weight, 0) /
        USER_AGENTS.reduce((s, a) => s + a.weight, 0);
    // Crawlers always land directly, so direct is a bit above the human mix.
    expect(direct).toBeGreaterThan(LANDING_REFERRER_MIX.direct - 0.04);
    expect(direct).toBeLessThan(LANDING_REFERRER_MIX.direct + 0.08);
    expect(search).toBeGreaterThan(LANDING_REFERRER_MIX.search * humanShare - 0.04);
    expect(search).toBeLessThan(LANDING_REFERRER_MIX.search + 0.04);
    expect(social).toBeGreaterThan(LANDING_REFERRER_MIX.social * humanShare - 0.04);
    expect(social).toBeLessThan(LANDING_REFERRER_MIX.social + 0.04);
    expect(direct + search + social).toBeLessThan(1); // "other" exists
  });

  it('uses a realistic set of about 20 user agents, mostly browsers, a few bots', () => {
    expect(USER_AGENTS.length).toBe(20);
    const known = new Set(USER_AGENTS.map((agent) => agent.ua));
    const seen = new Map<string, number>();
    for (const event of events) seen.set(event.ua, (seen.get(event.ua) ?? 0) + 1);
    expect([...seen.keys()].filter((ua) => !known.has(ua))).toEqual([]);
    expect(seen.size).toBeGreaterThanOrEqual(15);
    const bots = [...seen.entries()].filter(([ua]) => /bot/i.test(ua)).reduce((sum, [, n]) => sum + n, 0);
    expect(bots / COUNT).toBeGreaterThan(0.01);
    expect(bots / COUNT).toBeLessThan(0.08);
    const mobile = [...seen.entries()].filter(([ua]) => /Mobile/.test(ua)).reduce((sum, [, n]) => sum + n, 0);
    expect(mobile / COUNT).toBeGreaterThan(0.25);
  });

  it('keeps one user agent per session', () => {
    const uaByUser = new Map<string, string>();
    let mismatches = 0;
    let checked = 0;
    for (const event of events) {
      if (isInternal(event.referrer)) {
        checked++;
        if (uaByUser.get(event.user_id) !== event.ua) mismatches++;
      }
      uaByUser.set(event.user_id, event.ua);
    }
    // A user has one session at a time, so a page view always has its session's user agent.
    expect(checked).toBeGreaterThan(COUNT / 2);
    expect(mismatches).toBe(0);
  });

  it('splits the users between shards, and gives a user one session at a time', () => {
    const shards = Array.from({ length: 4 }, (_, index) =>
      createClickstreamGenerator({ seed: 10 + index, shard: { index, count: 4 } }),
    );
    const usersOf = shards.map((g) => new Set(g.nextBatch(20_000, NOW_MS).map((e) => e.user_id)));
    for (let a = 0; a < usersOf.length; a++)
      for (let b = a + 1; b < usersOf.length; b++)
        expect([...usersOf[a]!].filter((u) => usersOf[b]!.has(u))).toEqual([]);
    // u-000042 is user 42: shard 42 mod 4 = 2 simulates it.
    for (const [index, users] of usersOf.entries())
      expect([...users].filter((u) => Number(u.slice(2)) % 4 !== index)).toEqual([]);
    // A tiny population, every user busy: a page view still always continues its user's one session.
    const generator = createClickstreamGenerator({ seed: 4, users: 40, concurrentSessions: 1000 });
    const lastByUser = new Map<string, { url: string; ua: string; landing: string }>();
    let continuations = 0;
    const interleaved: string[] = [];
    for (const [i, event] of generator.nextBatch(20_000, NOW_MS).entries()) {
      const previous = lastByUser.get(event.user_id);
      if (!isInternal(event.referrer)) {
        lastByUser.set(event.user_id, { url: event.url, ua: event.ua, landing: event.url });
        continue;
      }
      continuations++;
      if (
        previous === undefined ||
        previous.ua !== event.ua ||
        (event.referrer !== previous.url && event.referrer !== previous.landing)
      )
        interleaved.push(`event ${i} of ${event.user_id}`);
      lastByUser.set(event.user_id, { url: event.url, ua: event.ua, landing: previous?.landing ?? event.url });
    }
    expect(continuations).toBeGreaterThan(10_000);
    expect(interleaved.slice(0, 5)).toEqual([]);
  });

  it('rejects nonsensical options', () => {
    expect(() => createClickstreamGenerator({ seed: 1, users: 0 })).toThrow(RangeError);
    expect(() => createClickstreamGenerator({ seed: 1, pages: 0 })).toThrow(RangeError);
    expect(() => createClickstreamGenerator({ seed: 1, concurrentSessions: 0 })).toThrow(RangeError);
    expect(() => createClickstreamGenerator({ seed: 1, users: 3, shard: { index: 3, count: 4 } })).toThrow(RangeError);
  });
});
