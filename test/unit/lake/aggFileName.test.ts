/**
 * The process aggregator's merged `agg` file `part-<firstId>-<lastId>.parquet` (lake/aggFileName.ts): every parser of
 * the lake takes it as the aggregator's, covering its checkpoint ids, and no other writer's parser takes it.
 */
import { describe, expect, it } from 'vitest';
import { offsetsFromLake, parseLakeFileName } from '../../../src/checkpoint/offsetsFromLake.js';
import { parseAggFileName } from '../../../src/lake/aggFileName.js';
import { parseAggTaskFileName } from '../../../src/lake/aggTaskFiles.js';
import { nameFacts } from '../../../src/lake/dayManifest.js';
import { parseExpiryFileName } from '../../../src/lake/expiryRecord.js';
import { aggFileName } from '../../../src/lake/layout.js';
import { inUnitPath, unitOfFile } from '../../../src/lake/unitMigration.js';
import { inventoryLake } from '../../../src/verify/lakeInventory.js';

const TOPICS = { clickstream: 'clickstream', iot: 'iot' };
/** As the planner names the merge of checkpoints 3..17 (lake/compactionPlan.ts). */
const MERGED = 'part-00000000000000000003-00000000000000000017.parquet';
const IN_UNIT = `tables/clickstream_agg/dt=2026-12-01/agg/${MERGED}`;

describe('the aggregator merged file name', () => {
  it('names a run of checkpoint ids, zero-padded like a checkpoint file, and parses back', () => {
    expect(parseAggFileName(MERGED)).toEqual({ first: 3n, last: 17n });
    expect(parseAggFileName(aggFileName(9))).toEqual({ first: 9n, last: 9n });
    expect(parseAggFileName('part-00000000000000000017-00000000000000000003.parquet')).toBeUndefined();
    expect(parseAggFileName('part-3-00000000000000000003-00000000000000000017.parquet')).toBeUndefined();
  });

  it("is the aggregator's for the seal, verify, retention, units and the rebuild; no stage-2 task's", () => {
    expect(nameFacts('clickstream_agg', `agg/${MERGED}`)).toEqual({
      owner: 'agg',
      partition: null,
      first: '3',
      last: '17',
    });
    const inventory = inventoryLake([{ path: IN_UNIT, sizeBytes: 1, mtimeMs: 0 }], TOPICS);
    expect(inventory.aggFiles).toEqual([{ path: IN_UNIT, dt: '2026-12-01', seq: 17n }]);
    expect(inventory.unknown).toEqual([]);
    expect(inventory.misplaced).toEqual([]);
    // Retention records the largest expired checkpoint id: a merged file's last.
    expect(parseExpiryFileName(IN_UNIT, TOPICS)).toEqual({ kind: 'agg', seq: 17n });
    expect(unitOfFile('clickstream_agg', MERGED)).toBe('agg');
    expect(inUnitPath(`tables/clickstream_agg/dt=2026-12-01/${MERGED}`)).toBe(IN_UNIT);
    expect(parseAggTaskFileName(IN_UNIT)).toBeUndefined();
    expect(parseAggTaskFileName(`tables/clickstream_agg/dt=2026-12-01/.${MERGED}.a1b2c3.tmp`)).toBeUndefined();
  });

  it('the rebuild after `data clean --checkpoints` continues after the largest id a merged file names', () => {
    expect(parseLakeFileName(IN_UNIT, TOPICS)).toMatchObject({ seq: 17, tmp: false });
    const lake = offsetsFromLake(
      [IN_UNIT, 'tables/clickstream_agg/dt=2026-12-01/agg/part-00000000000000000002.parquet'],
      TOPICS,
    );
    expect(lake.aggSeq).toBe(17);
    expect(lake.unknown).toEqual([]);
    // A merged name is never a tmp file the rebuild completes.
    expect(parseLakeFileName(`${IN_UNIT}.tmp`, TOPICS)).toBeUndefined();
  });
});
