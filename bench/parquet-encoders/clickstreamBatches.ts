/**
 * The parquet encoder benchmark's input: the same clickstream rows for every scenario, drawn from
 * one seed (event ids excepted: random UUIDs, as the producers make them).
 */
import { randomUUID } from 'node:crypto';
import { ColumnBuffer } from '../../src/lake/columnBuffer.js';
import type { ColumnBatch } from '../../src/lake/tables.js';
import { mulberry32 } from '../../src/system/mulberry32.js';

/** The seed of every run's rows, so that runs compare. */
export const SEED = 42;

/**
 * A flat copy of a string, as JSON.parse makes them on the consuming side. randomUUID() returns a
 * rope of ~20 concatenated pieces that costs ~600 bytes of heap instead of ~56.
 */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/**
 * Realistic clickstream columns in files of `fileRows` rows: UUID v4 event ids, ~50k users, 300
 * urls, 40% without referrer, a dozen user agents.
 */
export function generateBatches(settings: { rows: number; fileRows: number }): ColumnBatch[] {
  const random = mulberry32(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const sections = ['products', 'category', 'blog', 'help', 'account', 'cart', 'search', 'deals', 'brands', 'stores'];
  const urls = Array.from({ length: 300 }, (_, i) =>
    i === 0
      ? '/'
      : `/${sections[i % sections.length]}/${(i * 7919) % 10_000}-${['shoes', 'jackets', 'lamps', 'phones', 'books', 'garden'][i % 6]}`,
  );
  const referrers = [
    null,
    null,
    null,
    null,
    'https://www.google.com/',
    'https://www.bing.com/',
    'https://t.co/abc',
    'https://news.ycombinator.com/',
    'https://www.facebook.com/',
    'https://duckduckgo.com/',
  ];
  const uas = [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
    'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0',
    'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36',
    'curl/8.5.0',
  ];
  const batches: ColumnBatch[] = [];
  let tsMs = Date.UTC(2024, 2, 1, 8);
  let buffer = new ColumnBuffer('clickstream');
  for (let i = 0; i < settings.rows; i++) {
    tsMs += Math.floor(random() * 5);
    buffer.append({
      event_id: flat(randomUUID()),
      user_id: `user-${Math.floor(random() * 50_000)}`,
      url: pick(urls),
      referrer: pick(referrers),
      ua: pick(uas),
      ts: tsMs,
    });
    if (buffer.rowCount === settings.fileRows) {
      batches.push(buffer.drain());
      buffer = new ColumnBuffer('clickstream');
    }
  }
  if (buffer.rowCount > 0) batches.push(buffer.drain());
  return batches;
}
