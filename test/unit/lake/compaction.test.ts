import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  COMPACTION_WRITER,
  recoverCompaction,
  splitVersionName,
  vacuumOldVersions,
} from '../../../src/lake/compaction.js';
import { rejectedFilePath, rawFilePath, tmpPathFor } from '../../../src/lake/layout.js';
import { swapStagingDir } from '../../../src/lake/readerSafeSwap.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function lake(): string {
  const root = mkdtempSync(join(tmpdir(), 'sdp-compaction-'));
  roots.push(root);
  return root;
}

function put(file: string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, 'x');
  return file;
}

const DT = '2026-12-01';

describe('splitVersionName', () => {
  it('finds the unit even when the topic in a _rejected unit and its merged name holds dots', () => {
    const merged = 'part-my.part-topic-0-00000000000000000000-00000000000000000009.parquet';
    const name = `p0-my.part-topic.${merged.slice(0, -'.parquet'.length)}`;
    expect(splitVersionName('_rejected', name)).toEqual({ unit: 'p0-my.part-topic', merged });
    expect(splitVersionName('clickstream', 'p3.part-3-00000000000000000000-00000000000000000009')).toEqual({
      unit: 'p3',
      merged: 'part-3-00000000000000000000-00000000000000000009.parquet',
    });
    // A version whose merged name belongs to another unit is none of compaction's.
    expect(splitVersionName('clickstream', 'p2.part-3-00000000000000000000-00000000000000000009')).toBeUndefined();
  });
});

describe('recoverCompaction', () => {
  it('deletes a version never exchanged and its tmp file; after the exchange keeps the old version, drops the tmp link', async () => {
    const root = lake();
    // Interrupted before the exchange: the unit does not hold the merged file.
    const before = rejectedFilePath(root, DT, 'my.topic', 0, 0, 9);
    const beforeVersion = swapStagingDir(root, '_rejected', DT, 'p0-my.topic', before.split('/').at(-1)!);
    put(join(beforeVersion, 'part-my.topic-0-00000000000000000000-00000000000000000004.parquet'));
    const beforeTmp = put(tmpPathFor(before, COMPACTION_WRITER));
    // Interrupted after the exchange: the unit holds the merged file; the old version waits for the vacuum.
    const after = put(rawFilePath(root, 'clickstream', DT, 1, 0, 99));
    const afterVersion = swapStagingDir(root, 'clickstream', DT, 'p1', after.split('/').at(-1)!);
    put(join(afterVersion, 'part-1-00000000000000000000-00000000000000000049.parquet'));
    const afterTmp = put(tmpPathFor(after, COMPACTION_WRITER));
    // Not compaction's: another writer's tmp file.
    const other = put(tmpPathFor(rawFilePath(root, 'clickstream', DT, 1, 100, 109), 'abcdef012345'));

    expect(await recoverCompaction(root)).toEqual({ completed: 1, rolledBack: 1 });
    expect(existsSync(beforeVersion)).toBe(false);
    expect(existsSync(beforeTmp)).toBe(false);
    expect(existsSync(afterVersion)).toBe(true);
    expect(existsSync(afterTmp)).toBe(false);
    expect(existsSync(after)).toBe(true);
    expect(existsSync(other)).toBe(true);
    expect(await recoverCompaction(root)).toEqual({ completed: 0, rolledBack: 0 });
  });
});

describe('vacuumOldVersions', () => {
  it('deletes old versions once lake.vacuum_grace has passed, not before', async () => {
    const root = lake();
    const merged = rawFilePath(root, 'iot', DT, 2, 0, 99).split('/').at(-1)!;
    const version = swapStagingDir(root, 'iot', DT, 'p2', merged);
    put(join(version, 'part-2-00000000000000000000-00000000000000000049.parquet'));
    const madeAt = Date.now() - 60_000;
    utimesSync(version, madeAt / 1000, madeAt / 1000);
    expect(await vacuumOldVersions(root, 120_000, Date.now())).toBe(0);
    expect(existsSync(version)).toBe(true);
    expect(await vacuumOldVersions(root, 30_000, Date.now())).toBe(1);
    expect(existsSync(version)).toBe(false);
  });
});
