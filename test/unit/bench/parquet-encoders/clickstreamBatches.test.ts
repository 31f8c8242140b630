import { describe, expect, it } from 'vitest';
import { generateBatches, SEED } from '../../../../bench/parquet-encoders/clickstreamBatches.js';

const UA = {
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
  chromeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  iphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  ipad: 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
};

describe('the parquet encoder bench rows', () => {
  it(`are, for seed ${SEED}, the rows they always were (event ids excepted: random UUIDs)`, () => {
    // Pinned from the rows drawn before the PRNG moved to src/system/mulberry32.ts, so that runs
    // before and after compare. Files of 3 rows: the split must not change the draws either.
    expect(SEED).toBe(42);
    const batches = generateBatches({ rows: 8, fileRows: 3 });
    expect(batches.map((b) => b.rowCount)).toEqual([3, 3, 2]);
    const column = (name: string) => batches.flatMap((b) => b.columns[name] ?? []);
    expect(column('user_id')).toEqual([
      'user-22414',
      'user-13661',
      'user-44102',
      'user-34330',
      'user-2560',
      'user-9284',
      'user-42134',
      'user-1871',
    ]);
    expect(column('url')).toEqual([
      '/cart/9345-phones',
      '/deals/853-jackets',
      '/help/5937-jackets',
      '/help/9177-phones',
      '/deals/1663-phones',
      '/cart/965-jackets',
      '/search/6174-lamps',
      '/cart/8785-phones',
    ]);
    expect(column('referrer')).toEqual([
      'https://t.co/abc',
      'https://www.facebook.com/',
      null,
      null,
      null,
      'https://www.bing.com/',
      'https://www.facebook.com/',
      'https://www.bing.com/',
    ]);
    expect(column('ua')).toEqual([
      UA.firefoxLinux,
      UA.edge,
      UA.firefoxLinux,
      UA.edge,
      UA.iphone,
      UA.chromeWindows,
      UA.iphone,
      UA.ipad,
    ]);
    expect(column('ts')).toEqual([
      1_709_280_000_003, 1_709_280_000_005, 1_709_280_000_006, 1_709_280_000_008, 1_709_280_000_012, 1_709_280_000_012,
      1_709_280_000_012, 1_709_280_000_014,
    ]);
    for (const id of column('event_id'))
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
