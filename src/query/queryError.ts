import { ErrorCodes, SdpError } from '../errors.js';
import type { TableName } from '../lake/tables.js';

/**
 * What a DuckDB error means for `query`'s exit code (pure). DuckDB's messages start with the error
 * class (`Parser Error: …`, `Catalog Error: …`); its node binding throws a plain Error, so the class
 * is read from the text.
 *
 * - the statement is wrong (syntax, unknown table or column, bad cast…): SDP_ERR_QUERY_INVALID, exit 2;
 * - the statement names a lake table that has no files yet: SDP_ERR_QUERY_NO_DATA, exit 1;
 * - DuckDB failed while running it (I/O, memory, interrupt, internal), or a lake file it read is
 *   broken (the message names a file under the lake root, whatever its class: a file that is not
 *   Parquet is an `Invalid Input Error`): SDP_ERR_QUERY_FAILED, exit 1.
 */

const RUNTIME_CLASSES = new Set([
  'IO',
  'Out of Memory',
  'Interrupt',
  'INTERNAL',
  'Internal',
  'Fatal',
  'FATAL',
  'Connection',
  'HTTP',
  'Permission',
]);

/** `Catalog Error: Table with name X does not exist!` → X. */
const MISSING_TABLE = /^Catalog Error: Table with name (\S+) does not exist/;

export function errorClassOf(message: string): string | undefined {
  return /^([A-Za-z ]+?) Error:/.exec(message)?.[1];
}

/**
 * DuckDB's message laid out for `main`'s error printer: the first line as the message, the rest
 * (the `LINE 1: …` context and its caret) as one detail whose following lines are indented like
 * its first, so that the caret still points at the right character.
 */
function splitMessage(message: string): { head: string; details: string[] } {
  const [head = message, ...rest] = message.trimEnd().split('\n');
  while (rest.length > 0 && rest[0]!.trim() === '') rest.shift();
  return { head, details: rest.length > 0 ? [rest.join('\n    ')] : [] };
}

export interface QueryErrorContext {
  /** The lake root, absolute. */
  root: string;
  /** Lake tables without files (no view). */
  empty: readonly TableName[];
  /** Lake tables whose view DuckDB could not create (a broken file), with DuckDB's message. */
  unreadable?: ReadonlyArray<{ table: TableName; message: string }>;
}

export function classifyQueryError(err: unknown, context: QueryErrorContext): SdpError {
  const message = err instanceof Error ? err.message : String(err);
  const { head, details } = splitMessage(message);
  const missing = MISSING_TABLE.exec(message)?.[1]?.toLowerCase();
  const emptyTable = context.empty.find((t) => t === missing);
  if (emptyTable !== undefined) {
    return new SdpError(
      ErrorCodes.QUERY_NO_DATA,
      `table ${emptyTable} has no data in the lake at ${context.root} yet (no Parquet files under tables/${emptyTable})`,
      [`DuckDB: ${head}`],
      { cause: err },
    );
  }
  const unreadable = context.unreadable?.find((u) => u.table === missing);
  if (unreadable !== undefined) {
    return new SdpError(
      ErrorCodes.QUERY_FAILED,
      `table ${unreadable.table} in the lake at ${context.root} cannot be read`,
      [`DuckDB: ${splitMessage(unreadable.message).head}`],
      { cause: err },
    );
  }
  const errorClass = errorClassOf(message);
  const runtime = (errorClass !== undefined && RUNTIME_CLASSES.has(errorClass)) || head.includes(`${context.root}/`);
  return new SdpError(runtime ? ErrorCodes.QUERY_FAILED : ErrorCodes.QUERY_INVALID, head, details, { cause: err });
}
