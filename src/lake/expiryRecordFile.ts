/**
 * Reading and writing the lake's expiry record (lake/expiryRecord.ts; architecture.md, "Keeping the lake:
 * retention"). It is several files at the lake root, beside `tables/`, not in it: no table listing, no
 * `tables/<t>/**\/*.parquet` glob, no recovery of `*.tmp` files sees them, and Hive-style readers skip `_`-prefixed
 * names anyway.
 *
 * - `<lake>/_expired.json`: written by `lake expire`, with the platform stopped (one writer).
 * - `<lake>/_expired/<owner>.json`: written by each owner inside the ETL (lake/ownerExpiryRule.ts), by that owner
 *   alone. Several members share the lake, so one shared file would be read, changed and written back by several
 *   processes at once, and the last writer would drop what the others added.
 *
 * Readers take the union of them all. Each file is written tmp → fsync → rename → fsync of the directory
 * (lake/durableFs.ts), so a crash leaves the old file or the new one, never half of one.
 */
import { lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { lstat, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ErrorCodes, SdpError } from '../errors.js';
import { fsyncDir, removeIfExists, renameDurable, writeFileDurable } from './durableFs.js';
import {
  decodeExpiryRecord,
  encodeExpiryRecord,
  EXPIRY_RECORD_FILE,
  type ExpiryRecord,
  unionExpiryRecords,
} from './expiryRecord.js';

/** The directory of the owners' records. */
export const OWNER_RECORDS_DIR = '_expired';

export function expiryRecordPath(lakeRoot: string): string {
  return join(lakeRoot, EXPIRY_RECORD_FILE);
}

export function ownerRecordPath(lakeRoot: string, name: string): string {
  return join(lakeRoot, OWNER_RECORDS_DIR, name);
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function assertRegularFile(file: string, stat: Stats): void {
  if (!stat.isFile())
    throw new SdpError(ErrorCodes.LAKE_EXPIRY_RECORD_INVALID, `${file} is not a regular file (symlinks are not read)`);
}

/** One record file; undefined when it does not exist. Symlinks are never read. Sync: for the CLI and start-up paths. */
function readRecordFile(file: string): ExpiryRecord | undefined {
  let stat: Stats;
  try {
    stat = lstatSync(file);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  assertRegularFile(file, stat);
  return decodeExpiryRecord(readFileSync(file, 'utf8'), file);
}

/** {@link readRecordFile} without blocking the event loop: for the ETL's rounds. */
async function readRecordFileAsync(file: string): Promise<ExpiryRecord | undefined> {
  let stat: Stats;
  try {
    stat = await lstat(file);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  assertRegularFile(file, stat);
  return decodeExpiryRecord(await readFile(file, 'utf8'), file);
}

/** The names of the owners' record files (tmp files aside). */
function ownerRecordNames(lakeRoot: string): string[] {
  try {
    return readdirSync(join(lakeRoot, OWNER_RECORDS_DIR))
      .filter((name) => name.endsWith('.json'))
      .sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

/** What expired in the whole lake: the union of every record file; undefined when nothing ever expired. */
export function readExpiryRecord(lakeRoot: string): ExpiryRecord | undefined {
  const records = [expiryRecordPath(lakeRoot), ...ownerRecordNames(lakeRoot).map((n) => ownerRecordPath(lakeRoot, n))]
    .map(readRecordFile)
    .filter((r): r is ExpiryRecord => r !== undefined);
  return unionExpiryRecords(records);
}

/** `lake expire`'s record. */
export async function writeExpiryRecord(lakeRoot: string, record: ExpiryRecord): Promise<void> {
  const file = expiryRecordPath(lakeRoot);
  const tmp = `${file}.tmp`;
  await writeFileDurable(tmp, [Buffer.from(encodeExpiryRecord(record), 'utf8')]);
  await renameDurable(tmp, file);
}

/**
 * One owner's record; undefined when it expired nothing yet. Asynchronous: the owner's retention round runs on the
 * ETL's event loop, beside the rolls.
 */
export function readOwnerExpiryRecord(lakeRoot: string, name: string): Promise<ExpiryRecord | undefined> {
  return readRecordFileAsync(ownerRecordPath(lakeRoot, name));
}

/** Whether `entry` of `_expired/` is a tmp file of the owner record `name` (`<name>.<writer>.tmp`), any writer's. */
export function isOwnerRecordTmp(name: string, entry: string): boolean {
  return entry.startsWith(`${name}.`) && /^[^.]+\.tmp$/.test(entry.slice(name.length + 1));
}

/**
 * One owner's record. The tmp name carries the writer id: a member that lost the owner's partition and has not noticed
 * yet never writes into the new owner's tmp file. `stillOwned` is asked right before the rename: false leaves the
 * record as it was (the tmp file removed) and answers false.
 */
export async function writeOwnerExpiryRecord(
  lakeRoot: string,
  name: string,
  record: ExpiryRecord,
  writer: string,
  stillOwned: () => boolean = () => true,
): Promise<boolean> {
  const file = ownerRecordPath(lakeRoot, name);
  const tmp = `${file}.${writer}.tmp`;
  await writeFileDurable(tmp, [Buffer.from(encodeExpiryRecord(record), 'utf8')]);
  if (!stillOwned()) {
    await removeIfExists(tmp);
    return false;
  }
  // rename(2) itself, not the idempotent completeRename: a tmp file the next owner removed as stale must fail this
  // round, not pass for a rename already done.
  await rename(tmp, file);
  await fsyncDir(dirname(file));
  return true;
}
