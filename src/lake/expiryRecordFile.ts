/**
 * Reading and writing `<lake>/_expired.json` (lake/expiryRecord.ts). It sits at the lake root,
 * beside `tables/`, not in it: no table listing, no `tables/<t>/**\/*.parquet` glob, no recovery of
 * `*.tmp` files sees it, and Hive-style readers skip `_`-prefixed names anyway. Written tmp →
 * fsync → rename → fsync of the directory (lake/durableFs.ts), so a crash leaves the old record or
 * the new one, never half of one.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, SdpError } from '../errors.js';
import { renameDurable, writeFileDurable } from './durableFs.js';
import { decodeExpiryRecord, encodeExpiryRecord, EXPIRY_RECORD_FILE, type ExpiryRecord } from './expiryRecord.js';

export function expiryRecordPath(lakeRoot: string): string {
  return join(lakeRoot, EXPIRY_RECORD_FILE);
}

/** The record, or undefined when the lake has none (nothing ever expired). */
export function readExpiryRecord(lakeRoot: string): ExpiryRecord | undefined {
  const file = expiryRecordPath(lakeRoot);
  let stat: import('node:fs').Stats;
  try {
    stat = lstatSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  if (!stat.isFile())
    throw new SdpError(ErrorCodes.LAKE_EXPIRY_RECORD_INVALID, `${file} is not a regular file (symlinks are not read)`);
  return decodeExpiryRecord(readFileSync(file, 'utf8'), file);
}

export async function writeExpiryRecord(lakeRoot: string, record: ExpiryRecord): Promise<void> {
  const file = expiryRecordPath(lakeRoot);
  const tmp = `${file}.tmp`;
  await writeFileDurable(tmp, [Buffer.from(encodeExpiryRecord(record), 'utf8')]);
  await renameDurable(tmp, file);
}
