import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetScan,
  type DecodedArray,
  type FileMetaData,
} from 'hyparquet';
import { ByteWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import { ErrorCodes, SdpError, isSdpError } from '../errors.js';
import { ensureDir, fsyncDir, removeIfExists } from './durableFs.js';
import { hyparquetSchema } from './hyparquetEncoder.js';
import type { TableName } from './tables.js';

/**
 * The merge itself, on the calling thread (lake/mergeParquet.ts runs it on a thread of its own): several committed
 * files of one table become one file with the table's schema exactly as hyparquetEncoder writes it (same schema
 * elements, SNAPPY, statistics per row group, offset indexes), rows in input order. hyparquet decodes one row group of
 * one input at a time and ParquetWriter writes a row group as soon as `rowGroupRows` rows are pending, so memory holds
 * at most about two row groups of rows, whatever the inputs add up to.
 */

export interface MergeResult {
  rows: number;
  bytes: number;
}

/** When pending rows become an output row group: at `rowGroupRows` rows, or earlier at `rowGroupBytes` bytes. */
export interface RowGroupLimits {
  rowGroupRows: number;
  /** Uncompressed bytes, as the inputs' footers count them. */
  rowGroupBytes: number;
}

/** `mergeParquetFiles` (lake/mergeParquet.ts) on the calling thread; the same contract. */
export async function mergeInThread(
  table: TableName,
  inputs: readonly string[],
  outputTmp: string,
  limits: RowGroupLimits,
): Promise<MergeResult> {
  const { rowGroupRows, rowGroupBytes } = limits;
  if (inputs.length === 0) throw writeFailed(table, outputTmp, 'no input files');
  if (!Number.isSafeInteger(rowGroupRows) || rowGroupRows <= 0) {
    throw writeFailed(table, outputTmp, `rowGroupRows must be a positive integer, got ${rowGroupRows}`);
  }
  if (!(rowGroupBytes > 0)) throw writeFailed(table, outputTmp, `rowGroupBytes must be positive, got ${rowGroupBytes}`);
  if (inputs.some((input) => path.resolve(input) === path.resolve(outputTmp))) {
    throw writeFailed(table, outputTmp, 'the output is one of the inputs');
  }
  let handle: FileHandle | undefined;
  try {
    await ensureDir(path.dirname(outputTmp));
    handle = await fs.open(outputTmp, 'w');
    const schema = hyparquetSchema(table);
    const sink = new FileSink(handle);
    const writer = new ParquetWriter({ writer: sink, schema, codec: 'SNAPPY' });
    const pending = new PendingRows(schema.length - 1);
    let rows = 0;
    for (const input of inputs) {
      for await (const group of rowGroupsOf(input, table, schema)) {
        pending.add(group);
        rows += group.rows;
        if (pending.rows >= rowGroupRows) {
          await writeRows(writer, schema, pending.takeWhole(rowGroupRows), rowGroupRows);
        } else if (pending.bytes >= rowGroupBytes) {
          // Wide rows (large _rejected payloads): a group of fewer rows rather than hundreds of MB held at once.
          await writeRows(writer, schema, pending.takeWhole(1), rowGroupRows);
        }
      }
    }
    if (pending.rows > 0) await writeRows(writer, schema, pending.takeWhole(1), rowGroupRows);
    await writer.finish();
    await sink.drain();
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsyncDir(path.dirname(outputTmp));
    return { rows, bytes: sink.offset };
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await removeIfExists(outputTmp).catch(() => undefined);
    if (isSdpError(err)) throw err;
    throw writeFailed(table, outputTmp, err instanceof Error ? err.message : String(err), err);
  }
}

function writeFailed(table: TableName, outputTmp: string, reason: string, cause?: unknown): SdpError {
  return new SdpError(ErrorCodes.LAKE_WRITE_FAILED, `cannot merge ${table} files into ${outputTmp}: ${reason}`, [], {
    cause,
  });
}

/** hyparquet-writer's buffer, emptied into the file after each row group (ParquetWriter awaits `flush`). */
class FileSink extends ByteWriter {
  constructor(private readonly handle: FileHandle) {
    super(1 << 20);
  }

  flush(): Promise<void> {
    return this.drain();
  }

  async drain(): Promise<void> {
    const chunk = new Uint8Array(this.buffer, 0, this.index);
    // write() may write less than asked; loop until the chunk is out.
    for (let done = 0; done < chunk.byteLength; ) {
      const { bytesWritten } = await this.handle.write(chunk, done, chunk.byteLength - done);
      done += bytesWritten;
    }
    this.index = 0;
  }
}

/** One decoded row group of an input: a column per schema leaf, in schema order. */
interface DecodedGroup {
  rows: number;
  /** Its uncompressed size from the input's footer. */
  bytes: number;
  columns: DecodedArray[];
}

/**
 * Text stays UTF-8 bytes (written back as they are: no string per value), timestamps stay the file's INT64 millis (no
 * Date per value). Dictionary-encoded columns share one value object per distinct value.
 */
const RAW_PARSERS = {
  stringFromBytes: (bytes: Uint8Array) => bytes,
  timestampFromMilliseconds: (millis: bigint) => millis,
};

/** The row groups of `file`, decoded one at a time (the previous one is released by the caller). */
async function* rowGroupsOf(file: string, table: TableName, schema: SchemaElement[]): AsyncGenerator<DecodedGroup> {
  const names = schema.slice(1).map((element) => element.name);
  let buffer: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  try {
    buffer = await asyncBufferFromFile(file);
  } catch (err) {
    throw inputError(file, table, err);
  }
  let scan: Awaited<ReturnType<typeof parquetScan>>;
  try {
    const metadata = await parquetMetadataAsync(buffer);
    assertSchema(metadata, schema, file, table);
    scan = await parquetScan({ file: buffer, metadata, parsers: RAW_PARSERS });
  } catch (err) {
    throw inputError(file, table, err);
  }
  const groupBytes = uncompressedBytesByStart(scan.metadata);
  for (const { rowStart, rowEnd } of scan.ranges) {
    const columns: DecodedArray[] = [];
    try {
      for (const column of names) {
        const values = await scan.readColumn({ column, rowStart, rowEnd });
        if (values.length !== rowEnd - rowStart) {
          throw new Error(`column ${column} has ${values.length} values in rows ${rowStart}-${rowEnd}`);
        }
        columns.push(values);
      }
    } catch (err) {
      throw inputError(file, table, err);
    }
    yield { rows: rowEnd - rowStart, bytes: groupBytes.get(rowStart) ?? 0, columns };
  }
}

/** Each row group's uncompressed size, by its first row (a scan without a filter has a range per row group). */
function uncompressedBytesByStart(metadata: FileMetaData): Map<number, number> {
  const sizes = new Map<number, number>();
  let start = 0;
  for (const group of metadata.row_groups) {
    sizes.set(start, Number(group.total_byte_size));
    start += Number(group.num_rows);
  }
  return sizes;
}

function inputError(file: string, table: TableName, err: unknown): SdpError {
  if (isSdpError(err)) return err;
  if ((err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    return new SdpError(ErrorCodes.LAKE_FILE_MISSING, `cannot merge ${table} file ${file}: it does not exist`, [], {
      cause: err,
    });
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new SdpError(ErrorCodes.LAKE_FILE_INVALID, `cannot merge ${table} file ${file}: ${reason}`, [], {
    cause: err,
  });
}

/**
 * The input's columns must be the table's: same names in the same order, physical and converted types and
 * repetition. parquetjs-lite's files pass too (same schema, no statistics); anything else would be rewritten under a
 * schema that is not its own.
 */
function assertSchema(metadata: FileMetaData, schema: SchemaElement[], file: string, table: TableName): void {
  const describe = (elements: readonly SchemaElement[]) =>
    elements
      .slice(1)
      .map((e) => `${e.name} ${e.type}${e.converted_type ? `/${e.converted_type}` : ''} ${e.repetition_type}`)
      .join(', ');
  const found = metadata.schema;
  const same =
    found.length === schema.length &&
    found[0]?.num_children === schema.length - 1 &&
    schema.slice(1).every((want, i) => {
      const got = found[i + 1]!;
      return (
        got.name === want.name &&
        got.type === want.type &&
        got.converted_type === want.converted_type &&
        got.repetition_type === want.repetition_type &&
        got.num_children === undefined
      );
    });
  if (!same) {
    throw new SdpError(ErrorCodes.LAKE_FILE_INVALID, `cannot merge ${file}: its columns are not those of ${table}`, [
      `found:    ${describe(found)}`,
      `expected: ${describe(schema)}`,
    ]);
  }
}

/** Rows decoded but not written yet, as pieces per column. */
class PendingRows {
  rows = 0;
  bytes = 0;
  private pieces: DecodedArray[][];

  constructor(private readonly columnCount: number) {
    this.pieces = Array.from({ length: columnCount }, () => []);
  }

  add(group: DecodedGroup): void {
    for (let c = 0; c < this.columnCount; c++) this.pieces[c]!.push(group.columns[c]!);
    this.rows += group.rows;
    this.bytes += group.bytes;
  }

  /** The largest multiple of `unit` rows pending (all of them for unit 1), as one array per column. */
  takeWhole(unit: number): DecodedArray[] {
    const take = this.rows - (this.rows % unit);
    const taken: DecodedArray[] = [];
    for (let c = 0; c < this.columnCount; c++) {
      const all = concat(this.pieces[c]!, this.rows);
      taken.push(take === this.rows ? all : all.slice(0, take));
      this.pieces[c] = take === this.rows ? [] : [all.slice(take)];
    }
    // What stays is part of one input group: its share of the bytes, near enough for a limit.
    this.bytes = this.rows === take ? 0 : this.bytes * ((this.rows - take) / this.rows);
    this.rows -= take;
    return taken;
  }
}

/** Pieces of one column as one array: a typed array when every piece is of the same typed array class. */
function concat(pieces: DecodedArray[], length: number): DecodedArray {
  if (pieces.length === 1) return pieces[0]!;
  const first = pieces[0];
  if (first !== undefined && !Array.isArray(first) && pieces.every((p) => p.constructor === first.constructor)) {
    const Typed = first.constructor as new (
      n: number,
    ) => DecodedArray & { set(a: ArrayLike<unknown>, at: number): void };
    const out = new Typed(length);
    let at = 0;
    for (const piece of pieces) {
      out.set(piece as ArrayLike<unknown>, at);
      at += piece.length;
    }
    return out;
  }
  const out: unknown[] = new Array(length);
  let at = 0;
  for (const piece of pieces) for (let i = 0; i < piece.length; i++) out[at++] = piece[i];
  return out as DecodedArray;
}

async function writeRows(
  writer: ParquetWriter,
  schema: SchemaElement[],
  columns: DecodedArray[],
  rowGroupRows: number,
): Promise<void> {
  const columnData = columns.map((data, c) => ({ name: schema[c + 1]!.name, data }));
  await writer.write({ columnData, rowGroupSize: rowGroupRows });
}
