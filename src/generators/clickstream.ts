import { formatIsoTimestamp } from '../events/isoTimestamp.js';
import type { ClickstreamEvent } from '../events/types.js';
import { assertJsonSafe } from './jsonSafe.js';
import { checkShard, ownedIdNumbers, type Shard, WHOLE_POPULATION } from './ownership.js';
import { ClickstreamJson, NO_PIECE } from './clickstreamJson.js';
import { createRandom, createZipfSampler, IndexSampler, type Seed } from './random.js';
import type { RecordSink } from './recordSink.js';
import { uuidV4 } from './uuidV4.js';

/**
 * Synthetic clickstream of a shop-like site: a user population browsing in sessions, pages with
 * Zipf popularity, realistic referrers and user agents. Pure and deterministic under a seed.
 *
 * The site itself (URLs, popularity ranks) does not depend on the seed, so several generators with
 * different seeds (one per worker thread) describe the same site and their page counts add up.
 * The user ids are one population split between them (ownership.ts): a user browses in one
 * generator only, one session at a time, so a user's events are one sequence of sessions.
 */

export const SHOP_ORIGIN = 'https://shop.example.com';

export interface UserAgent {
  ua: string;
  /** Relative share of sessions. */
  weight: number;
  bot: boolean;
}

/** Roughly the browser mix of a European retail site; a few crawlers. */
export const USER_AGENTS: readonly UserAgent[] = [
  {
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    weight: 24,
    bot: false,
  },
  {
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36',
    weight: 6,
    bot: false,
  },
  {
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    weight: 7,
    bot: false,
  },
  {
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
    weight: 6,
    bot: false,
  },
  { ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0', weight: 4, bot: false },
  { ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', weight: 1.2, bot: false },
  {
    ua: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    weight: 1.3,
    bot: false,
  },
  {
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67',
    weight: 6,
    bot: false,
  },
  {
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0',
    weight: 0.8,
    bot: false,
  },
  {
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
    weight: 16,
    bot: false,
  },
  {
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
    weight: 2,
    bot: false,
  },
  {
    ua: 'Mozilla/5.0 (iPad; CPU OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
    weight: 2,
    bot: false,
  },
  {
    ua: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    weight: 13,
    bot: false,
  },
  {
    ua: 'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
    weight: 3,
    bot: false,
  },
  { ua: 'Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0', weight: 0.9, bot: false },
  { ua: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', weight: 1.5, bot: true },
  { ua: 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', weight: 0.7, bot: true },
  { ua: 'DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)', weight: 0.3, bot: true },
  { ua: 'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)', weight: 0.5, bot: true },
  {
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)',
    weight: 0.3,
    bot: true,
  },
];

/** Where a session's first page comes from (humans; crawlers always arrive directly). */
export const LANDING_REFERRER_MIX = { direct: 0.35, search: 0.4, social: 0.2, other: 0.05 } as const;

const SEARCH_ENGINES: readonly (readonly [prefix: string, weight: number])[] = [
  ['https://www.google.com/search?q=', 80],
  ['https://www.bing.com/search?q=', 12],
  ['https://duckduckgo.com/?q=', 8],
];

const SOCIAL_REFERRERS: readonly string[] = [
  'https://t.co/',
  'https://www.facebook.com/',
  'https://l.facebook.com/',
  'https://www.reddit.com/r/deals/',
  'https://www.instagram.com/',
  'https://www.linkedin.com/',
  'https://www.youtube.com/',
  'https://www.pinterest.com/',
];

const OTHER_REFERRERS: readonly string[] = [
  'https://mail.google.com/',
  'https://news.ycombinator.com/',
  'https://www.example-deals.net/best-of-the-week',
  'https://outlook.live.com/',
];

/** Within a session, a page is usually reached from the previous one, sometimes back from the landing page. */
const BACK_TO_LANDING_PROBABILITY = 0.1;

const CATEGORIES: readonly (readonly [category: string, nouns: readonly string[]])[] = [
  ['electronics', ['headphones', 'speaker', 'camera', 'charger', 'smartwatch', 'tv', 'soundbar', 'drone']],
  ['computers', ['laptop', 'monitor', 'keyboard', 'mouse', 'ssd', 'router', 'webcam', 'dock']],
  ['phones', ['smartphone', 'phone-case', 'screen-protector', 'power-bank', 'earbuds', 'cable']],
  ['books', ['novel', 'cookbook', 'travel-guide', 'biography', 'comic', 'atlas']],
  ['home', ['lamp', 'rug', 'curtains', 'mirror', 'shelf', 'cushion', 'vase']],
  ['kitchen', ['kettle', 'blender', 'knife-set', 'coffee-maker', 'pan', 'toaster']],
  ['garden', ['hose', 'planter', 'lawn-mower', 'bbq', 'parasol', 'shears']],
  ['toys', ['puzzle', 'building-set', 'board-game', 'doll', 'rc-car', 'plush']],
  ['sports', ['running-shoes', 'yoga-mat', 'bike-helmet', 'tent', 'backpack', 'dumbbells']],
  ['fashion', ['jacket', 'sneakers', 'jeans', 'dress', 'scarf', 'sunglasses', 't-shirt']],
  ['beauty', ['shampoo', 'perfume', 'face-cream', 'hair-dryer', 'lipstick']],
  ['grocery', ['coffee-beans', 'olive-oil', 'tea', 'chocolate', 'pasta', 'honey']],
];

const ADJECTIVES: readonly string[] = [
  'wireless',
  'compact',
  'pro',
  'classic',
  'eco',
  'ultra',
  'smart',
  'premium',
  'mini',
  'deluxe',
  'organic',
  'vintage',
  'portable',
  'lightweight',
  'waterproof',
  'essential',
];

const STATIC_PAGES: readonly string[] = [
  '/cart',
  '/checkout',
  '/account',
  '/account/orders',
  '/deals',
  '/new-arrivals',
  '/help',
  '/help/shipping',
  '/help/returns',
  '/stores',
  '/blog',
  '/search',
];

const BLOG_TOPICS: readonly string[] = [
  'gift-ideas',
  'how-to-choose',
  'best-of',
  'buying-guide',
  'top-10',
  'review',
  'tips-for',
  'trends-in',
];

export interface Page {
  url: string;
  /** The words a visitor would type into a search engine to land here, `+`-joined. */
  searchQuery: string;
}

/**
 * The site's pages ordered by popularity rank (index 0 = most visited). Built from a fixed seed so
 * that it is the same for every generator: home, deals, categories and cart lead; products and blog
 * posts follow in a shuffled order.
 */
export function buildShopCatalogue(pageCount: number): Page[] {
  if (!Number.isInteger(pageCount) || pageCount < 1)
    throw new RangeError(`pages must be a positive integer, got ${pageCount}`);
  const random = createRandom('shop.example.com catalogue v1');
  const head: Page[] = [
    { url: `${SHOP_ORIGIN}/`, searchQuery: 'example+shop' },
    { url: `${SHOP_ORIGIN}/deals`, searchQuery: 'example+shop+deals' },
  ];
  const categories = random.shuffle(CATEGORIES.map(([category]) => category));
  for (const category of categories)
    head.push({ url: `${SHOP_ORIGIN}/c/${category}`, searchQuery: `buy+${category}+online` });
  for (const path of STATIC_PAGES) {
    if (path === '/deals') continue;
    head.push({ url: `${SHOP_ORIGIN}${path}`, searchQuery: `example+shop+${path.slice(1).replace(/\//g, '+')}` });
  }

  const tail: Page[] = [];
  const seenUrls = new Set(head.map((page) => page.url));
  const blogPosts = Math.floor(pageCount / 10);
  for (let attempt = 0; tail.length < blogPosts && attempt < blogPosts * 20; attempt++) {
    const [category, nouns] = random.pick(CATEGORIES);
    const noun = random.pick(nouns);
    const slug = `${random.pick(BLOG_TOPICS)}-${noun}`;
    const url = `${SHOP_ORIGIN}/blog/${slug}`;
    if (seenUrls.has(url)) continue;
    seenUrls.add(url);
    tail.push({ url, searchQuery: `${slug.replace(/-/g, '+')}+${category}` });
  }
  for (let id = 10_001; head.length + tail.length < pageCount; id += random.int(1, 97)) {
    const [category, nouns] = random.pick(CATEGORIES);
    const adjective = random.pick(ADJECTIVES);
    const noun = random.pick(nouns);
    const url = `${SHOP_ORIGIN}/p/${category}/${adjective}-${noun}-${id}`;
    seenUrls.add(url);
    tail.push({ url, searchQuery: `${adjective}+${noun.replace(/-/g, '+')}` });
  }
  random.shuffle(tail);
  return [...head, ...tail].slice(0, pageCount);
}

export interface ClickstreamGeneratorOptions {
  seed: Seed;
  /** Size of the user population (ids `u-000000`...), over every shard. Default 50 000. */
  users?: number;
  /** The users this generator simulates (ownership.ts). Default all. */
  shard?: Shard;
  /** Pages in the catalogue. Default 300. */
  pages?: number;
  /** Zipf exponent of page popularity. Default 1.1. */
  zipfExponent?: number;
  /** Mean pages per session (geometric). Default 5. */
  meanSessionPages?: number;
  /**
   * Sessions browsing at the same time over every shard (each shard runs its share, at most one per
   * user it owns); each event advances one of them. Default 1000.
   */
  concurrentSessions?: number;
}

export interface ClickstreamGeneratorStats {
  events: number;
  sessionsStarted: number;
  sessionsCompleted: number;
  /** Pages viewed in completed sessions: divided by sessionsCompleted, the mean session length. */
  pagesInCompletedSessions: number;
}

export interface ClickstreamGenerator {
  /** The next event, stamped with `nowMs` as its event time. */
  next(nowMs: number): ClickstreamEvent;
  /**
   * The next event, the same as `next` would have made, appended to `sink` as its record: keyed by its user id, its
   * value the bytes of `JSON.stringify(event)` (clickstreamJson.ts).
   */
  writeNext(nowMs: number, sink: RecordSink): void;
  /** `JSON.stringify(event)` for an event this generator made, without its escaping pass (jsonSafe.ts). */
  toJson(event: ClickstreamEvent): string;
  nextBatch(count: number, nowMs: number): ClickstreamEvent[];
  stats(): ClickstreamGeneratorStats;
  /** Catalogue URLs by popularity rank. */
  readonly urls: readonly string[];
}

interface Session {
  /** Index in `userIds`, given back to the idle users when the session ends. */
  user: number;
  /** Index in USER_AGENTS. */
  userAgent: number;
  landingPage: number;
  previousPage: number;
  pagesLeft: number;
  pagesViewed: number;
}

/**
 * A referrer's pieces (clickstreamJson.ts): by page index the URLs, then the pages' search queries (after a search
 * engine's prefix), the search engines' prefixes, the social and the other referrers.
 */
function referrerPieces(catalogue: readonly Page[]): string[] {
  return [
    ...catalogue.map((page) => page.url),
    ...catalogue.map((page) => page.searchQuery),
    ...SEARCH_ENGINES.map(([prefix]) => prefix),
    ...SOCIAL_REFERRERS,
    ...OTHER_REFERRERS,
  ];
}

/**
 * Longer than ~80 lines: one closure over the generator's state, whose `step` is the one place an event is drawn
 * (`next` and `writeNext` only render what it drew), so both give the same events for the same seed.
 */
export function createClickstreamGenerator(options: ClickstreamGeneratorOptions): ClickstreamGenerator {
  const userCount = options.users ?? 50_000;
  const meanSessionPages = options.meanSessionPages ?? 5;
  const concurrentSessions = options.concurrentSessions ?? 1000;
  if (!Number.isInteger(userCount) || userCount < 1)
    throw new RangeError(`users must be a positive integer, got ${userCount}`);
  if (!Number.isInteger(concurrentSessions) || concurrentSessions < 1) {
    throw new RangeError(`concurrentSessions must be a positive integer, got ${concurrentSessions}`);
  }

  const random = createRandom(options.seed);
  const catalogue = buildShopCatalogue(options.pages ?? 300);
  const urls = catalogue.map((page) => page.url);
  const pagePopularity = createZipfSampler(catalogue.length, options.zipfExponent ?? 1.1);
  const shard = options.shard ?? WHOLE_POPULATION;
  checkShard(shard);
  const userIdWidth = Math.max(6, String(userCount - 1).length);
  // `u-000042` is user 42 (ownership.ts).
  const userIds = ownedIdNumbers(userCount, shard).map((n) => `u-${String(n).padStart(userIdWidth, '0')}`);
  if (userIds.length === 0)
    throw new RangeError(`shard ${shard.index} of ${shard.count} owns none of the ${userCount} users`);
  // Users not browsing now: a new session takes one, so no user has two sessions at once.
  const idleUsers = Array.from({ length: userIds.length }, (_, i) => i);
  const sessionSlots = Math.min(userIds.length, Math.max(1, Math.round(concurrentSessions / shard.count)));
  const userAgents = new IndexSampler(USER_AGENTS.map((agent) => agent.weight));
  const searchEngines = new IndexSampler(SEARCH_ENGINES.map(([, weight]) => weight));
  const landingKinds = new IndexSampler([
    LANDING_REFERRER_MIX.direct,
    LANDING_REFERRER_MIX.search,
    LANDING_REFERRER_MIX.social,
    LANDING_REFERRER_MIX.other,
  ]);
  const pieces = referrerPieces(catalogue);
  const searchQueryPiece = catalogue.length;
  const searchEnginePiece = 2 * catalogue.length;
  const socialPiece = searchEnginePiece + SEARCH_ENGINES.length;
  const otherPiece = socialPiece + SOCIAL_REFERRERS.length;

  // Every string an event takes from these needs no escaping in JSON: toJson and writeNext write them as they are.
  assertJsonSafe([...USER_AGENTS.map((agent) => agent.ua), ...pieces], 'clickstream string');
  const json = new ClickstreamJson({
    userIds,
    urls,
    referrerPieces: pieces,
    userAgents: USER_AGENTS.map((agent) => agent.ua),
  });

  const sessions: (Session | undefined)[] = new Array<Session | undefined>(sessionSlots).fill(undefined);
  const stats: ClickstreamGeneratorStats = {
    events: 0,
    sessionsStarted: 0,
    sessionsCompleted: 0,
    pagesInCompletedSessions: 0,
  };

  // Every event of a batch shares its timestamp: format it once.
  let lastNowMs = Number.NaN;
  let lastTs = '';

  // The event `step` drew last, as indices (referrer: NO_PIECE for none) and its UUID's words: no object per event.
  let user = 0;
  let page = 0;
  let referrerHead = NO_PIECE;
  let referrerTail = NO_PIECE;
  let userAgent = 0;
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  let w3 = 0;

  /** The referrer of a session's first page (humans; crawlers always arrive directly): its pieces. */
  function drawLandingReferrer(agent: UserAgent, landing: number): void {
    referrerHead = NO_PIECE;
    referrerTail = NO_PIECE;
    if (agent.bot) return;
    switch (landingKinds.sample(random)) {
      case 0:
        return;
      case 1:
        referrerHead = searchEnginePiece + searchEngines.sample(random);
        referrerTail = searchQueryPiece + landing;
        return;
      case 2:
        referrerHead = socialPiece + random.index(SOCIAL_REFERRERS.length);
        return;
      default:
        referrerHead = otherPiece + random.index(OTHER_REFERRERS.length);
    }
  }

  function step(nowMs: number): void {
    if (nowMs !== lastNowMs) {
      lastTs = formatIsoTimestamp(nowMs);
      json.setTimestamp(lastTs);
      lastNowMs = nowMs;
    }
    const slot = Math.floor(random.next() * sessionSlots);
    let session = sessions[slot];
    if (session === undefined) {
      const agent = userAgents.sample(random);
      page = pagePopularity.sample(random);
      drawLandingReferrer(USER_AGENTS[agent]!, page);
      // Take a random idle user out of the idle list (swap with the last, pop).
      const pick = Math.floor(random.next() * idleUsers.length);
      const taken = idleUsers[pick]!;
      idleUsers[pick] = idleUsers[idleUsers.length - 1]!;
      idleUsers.pop();
      session = {
        user: taken,
        userAgent: agent,
        landingPage: page,
        previousPage: page,
        pagesLeft: random.geometric(meanSessionPages),
        pagesViewed: 0,
      };
      sessions[slot] = session;
      stats.sessionsStarted++;
    } else {
      page = pagePopularity.sample(random);
      if (page === session.previousPage) page = pagePopularity.sample(random); // a reload now and then, not often
      // Usually reached from the previous page, sometimes back from the landing page (both are URLs: pieces by page).
      referrerHead = random.next() < BACK_TO_LANDING_PROBABILITY ? session.landingPage : session.previousPage;
      referrerTail = NO_PIECE;
      session.previousPage = page;
    }
    user = session.user;
    userAgent = session.userAgent;
    session.pagesViewed++;
    if (--session.pagesLeft === 0) {
      sessions[slot] = undefined;
      idleUsers.push(session.user);
      stats.sessionsCompleted++;
      stats.pagesInCompletedSessions += session.pagesViewed;
    }
    stats.events++;
    w0 = random.nextUint32();
    w1 = random.nextUint32();
    w2 = random.nextUint32();
    w3 = random.nextUint32();
  }

  function next(nowMs: number): ClickstreamEvent {
    step(nowMs);
    return {
      event_id: uuidV4(w0, w1, w2, w3),
      user_id: userIds[user]!,
      url: urls[page]!,
      referrer:
        referrerHead === NO_PIECE
          ? ''
          : referrerTail === NO_PIECE
            ? pieces[referrerHead]!
            : pieces[referrerHead]! + pieces[referrerTail]!,
      ua: USER_AGENTS[userAgent]!.ua,
      ts: lastTs,
    };
  }

  return {
    next,
    writeNext(nowMs: number, sink: RecordSink): void {
      step(nowMs);
      json.write(sink, user, page, referrerHead, referrerTail, userAgent, w0, w1, w2, w3);
    },
    toJson(e: ClickstreamEvent): string {
      // Ids are hex and digits, timestamps ISO: nothing to escape either. Anything else: JSON.stringify.
      if (typeof e.referrer !== 'string' || typeof e.ts !== 'string') return JSON.stringify(e);
      return `{"event_id":"${e.event_id}","user_id":"${e.user_id}","url":"${e.url}","referrer":"${e.referrer}","ua":"${e.ua}","ts":"${e.ts}"}`;
    },
    nextBatch(count: number, nowMs: number): ClickstreamEvent[] {
      const batch = new Array<ClickstreamEvent>(count);
      for (let i = 0; i < count; i++) batch[i] = next(nowMs);
      return batch;
    },
    stats: () => ({ ...stats }),
    urls,
  };
}
