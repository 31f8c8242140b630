import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rawFileName, rejectedFileName } from '../../../src/lake/layout.js';
import { listPartitionFiles } from '../../../src/lake/partitionTmpFiles.js';

let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdp-partitionfiles-'));
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function touch(files: readonly string[]): Promise<void> {
  for (const f of files) {
    await fs.mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await fs.writeFile(path.join(dir, f), '');
  }
}

describe('listPartitionFiles', () => {
  it("lists one partition's tmp and final files in its tables, lake-relative and sorted", async () => {
    const mineFinal = [
      `tables/clickstream/dt=2026-12-01/${rawFileName(1, 0, 99)}`,
      `tables/clickstream/dt=2026-11-30/${rawFileName(1, 0, 99)}`,
      `tables/_rejected/dt=2026-12-01/${rejectedFileName('clicks', 1, 0, 99)}`,
    ];
    const mineTmp = [
      `tables/clickstream/dt=2026-12-02/${rawFileName(1, 100, 199)}.cafe.tmp`,
      `tables/_rejected/dt=2026-12-02/${rejectedFileName('clicks', 1, 100, 199)}.tmp`,
    ];
    const others = [
      `tables/clickstream/dt=2026-12-01/${rawFileName(10, 0, 99)}`, // partition 10
      `tables/clickstream/dt=2026-12-01/${rawFileName(0, 0, 99)}.cafe.tmp`, // partition 0
      `tables/_rejected/dt=2026-12-01/${rejectedFileName('clicks-1', 0, 0, 99)}.cafe.tmp`, // topic clicks-1
      `tables/_rejected/dt=2026-12-01/${rejectedFileName('sensors', 1, 0, 99)}`, // the iot topic
      `tables/iot/dt=2026-12-01/${rawFileName(1, 0, 99)}`, // another table
      'tables/clickstream_agg/dt=2026-12-01/part-00000000000000000001.parquet',
      `tables/clickstream/dt=2026-12-01/notes.txt`,
      `tables/clickstream/latest/${rawFileName(1, 0, 99)}`, // not a dt directory
    ];
    await touch([...mineFinal, ...mineTmp, ...others]);
    // a directory named like a file of the partition is not a file
    await fs.mkdir(path.join(dir, `tables/clickstream/dt=2026-12-03/${rawFileName(1, 200, 299)}.cafe.tmp`), {
      recursive: true,
    });
    expect(await listPartitionFiles(dir, ['clickstream', '_rejected'], 'clicks', 1)).toEqual({
      tmpFiles: [...mineTmp].sort(),
      finalFiles: [...mineFinal].sort(),
    });
  });

  it('finds nothing in a lake without tables yet', async () => {
    expect(await listPartitionFiles(path.join(dir, 'fresh'), ['iot', '_rejected'], 'sensors', 0)).toEqual({
      tmpFiles: [],
      finalFiles: [],
    });
  });

  it('refuses a table that holds no input partition', async () => {
    await expect(listPartitionFiles(dir, ['clickstream_agg'], 'clicks', 0)).rejects.toThrow(/clickstream_agg/);
  });
});
