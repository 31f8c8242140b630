import { describe, expect, it } from 'vitest';
import {
  type CommitMetadata,
  decodeCommitMetadata,
  encodeCommitMetadata,
} from '../../../src/checkpoint/commitMetadata.js';
import { planTakeover, type TakeoverInput } from '../../../src/checkpoint/takeoverPlan.js';
import { ErrorCodes, isSdpError } from '../../../src/errors.js';
import { rawFileName, rejectedFileName, tmpPathFor, unhiddenTmpPath } from '../../../src/lake/layout.js';
import type { TableName } from '../../../src/lake/tables.js';
import { inUnitPath } from '../../../src/lake/unitMigration.js';

const TOPIC_ID = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
const CLICKS: readonly TableName[] = ['clickstream', '_rejected'];
const IOT: readonly TableName[] = ['iot', '_rejected'];

const raw = (table: 'clickstream' | 'iot', dt: string, first: number, last: number, p = 2) =>
  `tables/${table}/dt=${dt}/p${p}/${rawFileName(p, first, last)}`;
const rej = (dt: string, first: number, last: number, topic = 'clicks', p = 2) =>
  `tables/_rejected/dt=${dt}/p${p}-${topic}/${rejectedFileName(topic, p, first, last)}`;
const tmp = (final: string, writer?: string) => tmpPathFor(final, writer);

function meta(over: Partial<CommitMetadata> = {}): CommitMetadata {
  return {
    v: 1,
    topicId: TOPIC_ID,
    raw: '299',
    win: '299',
    writer: 'cafe',
    files: [
      { table: 'clickstream', dt: '2026-12-01', first: '200', last: '299' },
      { table: 'clickstream', dt: '2026-12-02', first: '200', last: '299' },
      { table: '_rejected', dt: '2026-12-01', first: '200', last: '299' },
    ],
    ...over,
  };
}

type InputOverrides = Partial<Omit<TakeoverInput, 'committed'>> & { committed?: Partial<TakeoverInput['committed']> };

function input(over: InputOverrides = {}): TakeoverInput {
  const { committed, ...rest } = over;
  return {
    topic: 'clicks',
    partition: 2,
    tables: CLICKS,
    tmpFiles: [],
    finalFiles: [],
    ...rest,
    committed: { offset: '300', metadata: meta(), topicId: TOPIC_ID, ...committed },
  };
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('planTakeover with metadata of ours', () => {
  it('completes the renames the last commit named and deletes every other tmp file of the partition', () => {
    const named = [
      tmp(raw('clickstream', '2026-12-01', 200, 299), 'cafe'),
      // tmp(raw('clickstream', '2026-12-02', …)) already renamed: absent from the listing, still named
      tmp(rej('2026-12-01', 200, 299), 'cafe'),
    ];
    const others = [
      tmp(raw('clickstream', '2026-12-01', 200, 299), 'beef'), // the same roll by a zombie writer
      tmp(raw('clickstream', '2026-12-03', 300, 340), 'cafe'), // the next roll, never committed
      tmp(rej('2026-12-03', 300, 340)), // a legacy name without a writer id
    ];
    const plan = planTakeover(input({ tmpFiles: [...named, ...others].sort() }));
    expect(plan.source).toBe('metadata');
    expect(plan.renames).toEqual([
      { from: named[0], to: raw('clickstream', '2026-12-01', 200, 299) },
      {
        from: tmp(raw('clickstream', '2026-12-02', 200, 299), 'cafe'),
        to: raw('clickstream', '2026-12-02', 200, 299),
      },
      { from: named[1], to: rej('2026-12-01', 200, 299) },
    ]);
    expect(plan.deletes).toEqual([...others].sort());
    expect(plan.resume).toEqual({ raw: '299', win: '299' });
  });

  it('listed by range: renames the tmp files of that writer and range found by listing', () => {
    const mine = [tmp(raw('clickstream', '2026-12-01', 200, 299), 'cafe'), tmp(rej('2026-12-05', 200, 299), 'cafe')];
    const others = [
      tmp(raw('clickstream', '2026-12-01', 200, 299), 'beef'),
      tmp(raw('clickstream', '2026-12-01', 200, 298), 'cafe'),
    ];
    const m = meta({ files: { listedByRange: { first: '200', last: '299' } } });
    const plan = planTakeover(input({ committed: { metadata: m }, tmpFiles: [...mine, ...others].sort() }));
    expect(plan.renames).toEqual(
      mine
        .map((from) => ({ from, to: inUnitPath(unhiddenTmpPath(from).replace('.cafe.tmp', '')) }))
        .sort((a, b) => (a.from < b.from ? -1 : 1)),
    );
    expect(plan.deletes).toEqual([...others].sort());
  });

  it('takes metadata decoded from the committed text as it is', () => {
    const text = encodeCommitMetadata(meta({ raw: '299', win: '150' }));
    const plan = planTakeover(input({ committed: { offset: '151', metadata: decodeCommitMetadata(text) } }));
    expect(plan.resume).toEqual({ raw: '299', win: '150' });
    expect(plan.renames).toHaveLength(3);
  });

  it('resumes each sink where it is: next offset = min(raw, win) + 1 for clickstream, raw + 1 for iot', () => {
    expect(planTakeover(input({ committed: { offset: '201', metadata: meta({ win: '200' }) } })).resume).toEqual({
      raw: '299',
      win: '200',
    });
    const iot = meta({ win: null, files: [{ table: 'iot', dt: '2026-12-01', first: '200', last: '299' }] });
    const plan = planTakeover(input({ tables: IOT, committed: { offset: '300', metadata: iot } }));
    expect(plan.resume).toEqual({ raw: '299', win: null });
    expect(plan.renames).toEqual([
      { from: tmp(raw('iot', '2026-12-01', 200, 299), 'cafe'), to: raw('iot', '2026-12-01', 200, 299) },
    ]);
    const none = meta({ raw: '-1', win: '-1', files: [] });
    expect(planTakeover(input({ committed: { offset: '0', metadata: none } })).resume).toEqual({
      raw: '-1',
      win: '-1',
    });
  });

  it('refuses a committed offset its metadata does not explain, naming both', () => {
    const err = errorOf(() => planTakeover(input({ committed: { offset: '250', metadata: meta({ win: '200' }) } })));
    expect(isSdpError(err, ErrorCodes.CHECKPOINT_METADATA_INVALID)).toBe(true);
    expect((err as Error).message).toMatch(
      /clicks\[2\].*raw 299, window 200 \(next offset 201\).*committed offset is 250/,
    );
    const iot = meta({ win: null, files: [] });
    expect(() => planTakeover(input({ tables: IOT, committed: { offset: '299', metadata: iot } }))).toThrow(
      /raw 299 \(next offset 300\), but the committed offset is 299/,
    );
    expect(() => planTakeover(input({ committed: { offset: '-1' } }))).toThrow(/committed offset is -1/);
  });

  it('refuses metadata that does not fit the partition', () => {
    const codeOf = (i: TakeoverInput) => (errorOf(() => planTakeover(i)) as { code?: string }).code;
    // clickstream without a window offset, iot with one
    expect(codeOf(input({ committed: { metadata: meta({ win: null }) } }))).toBe(
      ErrorCodes.CHECKPOINT_METADATA_INVALID,
    );
    expect(codeOf(input({ tables: IOT, committed: { metadata: meta({ files: [] }) } }))).toBe(
      ErrorCodes.CHECKPOINT_METADATA_INVALID,
    );
    // files beyond the raw offset, a table of another topic
    const beyond = meta({ files: [{ table: 'clickstream', dt: '2026-12-01', first: '200', last: '300' }] });
    expect(() => planTakeover(input({ committed: { metadata: beyond } }))).toThrow(
      /up to offset 300, beyond its raw offset 299/,
    );
    const iotFile = meta({ files: [{ table: 'iot', dt: '2026-12-01', first: '200', last: '299' }] });
    expect(() => planTakeover(input({ committed: { metadata: iotFile } }))).toThrow(/names a iot file/);
    const range = meta({ files: { listedByRange: { first: '300', last: '400' } } });
    expect(() => planTakeover(input({ committed: { metadata: range } }))).toThrow(/beyond its raw offset/);
  });

  it('stops on a recreated topic (another topic id), as the start does', () => {
    const err = errorOf(() => planTakeover(input({ committed: { topicId: 'c'.repeat(32) } })));
    expect(isSdpError(err, ErrorCodes.KAFKA_OFFSET_OUT_OF_RANGE)).toBe(true);
    expect((err as Error).message).toMatch(/deleted and recreated.*aaaa.*cccc/);
    // an id not known on one side is no proof
    expect(planTakeover(input({ committed: { topicId: null } })).source).toBe('metadata');
    expect(planTakeover(input({ committed: { metadata: meta({ topicId: null }) } })).source).toBe('metadata');
  });
});

describe('planTakeover without metadata of ours: the file names', () => {
  it('resumes the raw sink after the largest last offset, completes interrupted renames, deletes the rest', () => {
    const finalFiles = [
      raw('clickstream', '2026-11-30', 0, 99),
      raw('clickstream', '2026-12-01', 100, 199),
      rej('2026-12-01', 200, 249), // a roll of rejected records only
      raw('clickstream', '2026-12-01', 250, 299),
    ];
    const interrupted = [
      tmp(raw('clickstream', '2026-12-02', 250, 299), 'cafe'), // its roll left a final: committed
      tmp(rej('2026-12-02', 250, 299)), // same roll, legacy name
    ];
    const deleted = [
      tmp(raw('clickstream', '2026-12-01', 250, 299), 'beef'), // its own final exists: never renamed over it
      tmp(raw('clickstream', '2026-12-02', 250, 299), 'dead'), // a second tmp of a final being completed
      tmp(raw('clickstream', '2026-12-02', 300, 350), 'cafe'), // never committed
    ];
    const plan = planTakeover(
      input({
        committed: { offset: '120', metadata: null },
        finalFiles,
        tmpFiles: [...interrupted, ...deleted].sort(),
      }),
    );
    expect(plan.source).toBe('file-names');
    expect(plan.resume).toEqual({ raw: '299', win: '-1' }); // the window stage gets the partition from its start
    expect(plan.renames).toEqual(
      interrupted
        .map((from) => ({ from, to: inUnitPath(unhiddenTmpPath(from).replace(/(\.cafe)?\.tmp$/, '')) }))
        .sort((a, b) => (a.from < b.from ? -1 : 1)),
    );
    expect(plan.deletes).toEqual([...deleted].sort());
  });

  it('never resumes below what retention deleted on purpose', () => {
    const plan = planTakeover(
      input({
        tables: IOT,
        topic: 'sensors',
        committed: { offset: '-1', metadata: null },
        finalFiles: [raw('iot', '2026-12-01', 0, 9)],
        expiredFloor: '499',
      }),
    );
    expect(plan).toMatchObject({ source: 'file-names', resume: { raw: '499', win: null } });
    const allExpired = planTakeover(
      input({ tables: IOT, topic: 'sensors', committed: { offset: '-1', metadata: null }, expiredFloor: '499' }),
    );
    expect(allExpired).toMatchObject({ source: 'file-names', resume: { raw: '499', win: null } });
  });

  it('rebuilds from names even when no offset is committed (an expired group), and ignores an offset not ours', () => {
    const finalFiles = [raw('iot', '2026-12-01', 0, 9, 2)];
    for (const offset of ['-1', '5', '1000']) {
      const plan = planTakeover(
        input({ tables: IOT, topic: 'sensors', committed: { offset, metadata: null }, finalFiles }),
      );
      expect(plan).toMatchObject({ source: 'file-names', resume: { raw: '9', win: null } });
    }
  });

  it('is empty without an offset and without files: reads from the start, deletes every tmp file', () => {
    const tmpFiles = [tmp(raw('clickstream', '2026-12-01', 0, 9), 'cafe')];
    const plan = planTakeover(input({ committed: { offset: '-1', metadata: null }, tmpFiles }));
    expect(plan).toEqual({ renames: [], deletes: tmpFiles, resume: { raw: '-1', win: '-1' }, source: 'empty' });
  });
});

describe('planTakeover: a compaction the last commit named (architecture.md, "Compaction")', () => {
  const merge = { table: 'clickstream' as const, dt: '2026-11-30', first: '0', last: '199' };
  const mergedFinal = raw('clickstream', '2026-11-30', 0, 199);
  const mergedTmp = tmp(mergedFinal, 'cafe');

  it('keeps the merged tmp file and completes its swap; the other tmp files go as always', () => {
    const other = tmp(raw('clickstream', '2026-12-02', 300, 350), 'cafe');
    const plan = planTakeover(
      input({ committed: { metadata: meta({ files: [], merge }) }, tmpFiles: [mergedTmp, other].sort() }),
    );
    expect(plan.merge).toEqual({
      merge,
      tmpPath: mergedTmp,
      unitDir: 'tables/clickstream/dt=2026-11-30/p2',
      mergedName: rawFileName(2, 0, 199),
    });
    expect(plan.deletes).toEqual([other]);
    expect(plan.resume).toEqual({ raw: '299', win: '299' });
  });

  it('does nothing for a merge whose tmp file is gone (exchanged already) or that another writer left', () => {
    const exchanged = planTakeover(input({ committed: { metadata: meta({ files: [], merge }) } }));
    expect(exchanged.merge).toBeUndefined();
    const another = tmp(mergedFinal, 'beef');
    const stray = planTakeover(input({ committed: { metadata: meta({ files: [], merge }) }, tmpFiles: [another] }));
    expect(stray.merge).toBeUndefined();
    expect(stray.deletes).toEqual([another]);
  });

  it('deletes a merged tmp file the last commit did not name (never committed)', () => {
    const plan = planTakeover(input({ tmpFiles: [mergedTmp] }));
    expect(plan.merge).toBeUndefined();
    expect(plan.deletes).toEqual([mergedTmp]);
  });

  it("refuses a merge beyond the raw offset or of a table not the partition's", () => {
    for (const bad of [
      { ...merge, last: '300' },
      { ...merge, table: 'iot' as const },
    ]) {
      const err = errorOf(() => planTakeover(input({ committed: { metadata: meta({ files: [], merge: bad }) } })));
      expect(isSdpError(err) && err.code).toBe(ErrorCodes.CHECKPOINT_METADATA_INVALID);
    }
  });

  it('without metadata, never renames a merged tmp file beside its inputs, even when another table has its range', () => {
    const plan = planTakeover(
      input({
        committed: { offset: '120', metadata: null },
        // Its inputs in its unit; the _rejected unit merged over the same rolls and exchanged.
        finalFiles: [
          raw('clickstream', '2026-11-30', 0, 99),
          raw('clickstream', '2026-11-30', 100, 199),
          rej('2026-11-30', 0, 199),
        ],
        tmpFiles: [mergedTmp],
      }),
    );
    expect(plan.renames).toEqual([]);
    expect(plan.deletes).toEqual([mergedTmp]);
  });
});

describe('planTakeover input', () => {
  it('refuses a listed file that is not one of the partition (never deleting another partition’s files)', () => {
    for (const stray of [
      tmp(raw('clickstream', '2026-12-01', 0, 9, 12), 'cafe'), // partition 12
      tmp(rej('2026-12-01', 0, 9, 'clicks-2', 0), 'cafe'), // topic clicks-2, partition 0
      tmp(raw('iot', '2026-12-01', 0, 9), 'cafe'), // another table
      raw('clickstream', '2026-12-01', 0, 9), // a final file among the tmp files
    ]) {
      expect(() => planTakeover(input({ tmpFiles: [stray] }))).toThrow(/is not a tmp file of clicks\[2\]/);
    }
    expect(() =>
      planTakeover(input({ committed: { metadata: null }, finalFiles: [tmp(raw('clickstream', '2026-12-01', 0, 9))] })),
    ).toThrow(/is not a committed file/);
  });
});
