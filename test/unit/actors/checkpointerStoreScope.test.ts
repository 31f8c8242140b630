/**
 * Lake recovery touches only its own store's files: several checkpoint stores
 * (processes) may share one lake, and a tmp file of another store may be a roll in flight.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnCheckpointer, type CheckpointerMsg, type LakeRecovery } from '../../../src/actors/checkpointer.js';
import { rawSinkId, type RawCheckpoint } from '../../../src/checkpoint/checkpointState.js';
import { SqlitePersistenceEngine } from '../../../src/checkpoint/sqlitePersistenceEngine.js';
import { tmpPathFor } from '../../../src/lake/layout.js';
import { query, type Ref } from '../../../src/system/nact.js';
import { cleanUp, newSystem, onCleanUp, silentLogger, tempDir } from './fakes/testKit.js';

afterEach(cleanUp);

const pad = (n: number): string => String(n).padStart(20, '0');
const rawFile = (partition: number, first: number, last: number): string =>
  `tables/clickstream/dt=2024-03-01/p${partition}/part-${partition}-${pad(first)}-${pad(last)}.parquet`;

describe('checkpointer recoverLake with a store id', () => {
  it("deletes its own store's uncommitted tmp files and legacy ones, never another store's, and re-applies its committed renames", async () => {
    const dir = tempDir('sdp-store-scope-');
    const lakeRoot = join(dir, 'lake');
    const engine = new SqlitePersistenceEngine(join(dir, 'checkpoints', 'checkpoints.sqlite'), {
      synchronous: 'NORMAL',
    });
    onCleanUp(() => engine.close());
    const storeId = engine.storeId;
    expect(storeId).toMatch(/^[0-9a-f]{12}$/);
    const otherStore = storeId === 'aaaaaaaaaaaa' ? 'bbbbbbbbbbbb' : 'aaaaaaaaaaaa';
    const system = newSystem(engine);
    const checkpointer: Ref<CheckpointerMsg> = spawnCheckpointer(system, {
      lakeRoot,
      logger: silentLogger,
      snapshotEvery: 100,
      storeId,
    });

    // A committed roll whose rename did not happen yet (crash after the commit).
    const committedFinal = rawFile(0, 0, 9);
    const event: RawCheckpoint = {
      type: 'raw',
      sink: rawSinkId('clickstream', 0),
      topic: 'clickstream',
      partition: 0,
      offset: '9',
      renames: [{ from: tmpPathFor(committedFinal, storeId), to: committedFinal }],
      rows: 10,
      rejected: 0,
    };
    await mkdir(dirname(join(lakeRoot, committedFinal)), { recursive: true });
    await writeFile(join(lakeRoot, tmpPathFor(committedFinal, storeId)), 'committed');
    await query(checkpointer, () => ({ type: 'commit' as const, event }), 5_000).catch(() => undefined);
    // The commit renamed it; put it back as a crash before the rename would have left it.
    const { rename } = await import('node:fs/promises');
    await rename(join(lakeRoot, committedFinal), join(lakeRoot, tmpPathFor(committedFinal, storeId)));

    const own = tmpPathFor(rawFile(0, 10, 19), storeId);
    const legacy = tmpPathFor(rawFile(1, 0, 4));
    const foreign = [tmpPathFor(rawFile(2, 0, 4), otherStore), tmpPathFor(rawFile(0, 10, 19), otherStore)];
    for (const f of [own, legacy, ...foreign]) {
      await mkdir(dirname(join(lakeRoot, f)), { recursive: true });
      await writeFile(join(lakeRoot, f), 'in flight');
    }

    const recovery = await query<CheckpointerMsg, LakeRecovery>(checkpointer, () => ({ type: 'recoverLake' }), 5_000);

    expect(recovery.renamed).toBe(1);
    expect(existsSync(join(lakeRoot, committedFinal))).toBe(true);
    expect(recovery.deletedTmpFiles).toEqual([join(lakeRoot, own), join(lakeRoot, legacy)].sort());
    for (const f of foreign) expect(existsSync(join(lakeRoot, f)), f).toBe(true);
  });

  it('keeps one store id for the life of the store file', () => {
    const dir = tempDir('sdp-store-id-');
    const file = join(dir, 'checkpoints.sqlite');
    const first = new SqlitePersistenceEngine(file, { synchronous: 'NORMAL' });
    const id = first.storeId;
    first.close();
    const again = new SqlitePersistenceEngine(file, { synchronous: 'NORMAL' });
    onCleanUp(() => again.close());
    expect(again.storeId).toBe(id);
    const other = new SqlitePersistenceEngine(join(dir, 'other.sqlite'), { synchronous: 'NORMAL' });
    onCleanUp(() => other.close());
    expect(other.storeId).not.toBe(id);
  });
});
