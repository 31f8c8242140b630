import type { JsonValue, QueryColumn, QueryFormat, QueryResult } from './queryResult.js';
import { renderTable } from '../system/textTable.js';

/**
 * Renders a query result for stdout (pure). `table` for people, `csv` (RFC 4180, header row,
 * NULL as an empty field) and `json` (one array of row objects) for programs.
 */

const INTEGER_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const DECIMAL_TYPE = /^DECIMAL\(\d+,\d+\)$/;
const NUMERIC_TYPES =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$/;

/** A JS number exactly equal to the decimal text, or undefined (too many digits for a double). */
function exactNumber(text: string): number | undefined {
  const n = Number(text);
  if (!Number.isFinite(n)) return undefined;
  if (/^-?\d+$/.test(text)) return Number.isSafeInteger(n) ? n : undefined;
  // A decimal with at most 15 significant digits survives the round trip through a double.
  const digits = text.replace(/^-?0*/, '').replace('.', '').replace(/^0+/, '');
  return digits.length <= 15 ? n : undefined;
}

/**
 * The JSON value of a cell: integers and decimals that a double holds exactly become numbers
 * (`count(*)` and `sum(pv)` are BIGINT and HUGEINT, text in getRowsJson), larger ones stay text
 * so that no digit is lost.
 */
export function jsonCell(value: JsonValue, column: QueryColumn): JsonValue {
  if (typeof value === 'string' && (INTEGER_TYPES.test(column.type) || DECIMAL_TYPE.test(column.type))) {
    return exactNumber(value) ?? value;
  }
  return value;
}

/** A cell as text: NULL for null in tables, nested values as JSON. */
function textCell(value: JsonValue, nullText: string): string {
  if (value === null) return nullText;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function formatTable(result: QueryResult): string {
  const header = result.columns.map((c) => c.name);
  // Control characters would break the grid: show them escaped.
  const cells = result.rows.map((row) =>
    row.map((v) => textCell(v, 'NULL').replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1))),
  );
  const rightAligned = result.columns.map((c) => NUMERIC_TYPES.test(c.type));
  const count = `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`;
  if (header.length === 0) return `${count}\n`;
  return `${renderTable(header, cells, { rightAligned, headerRule: true })}\n${count}\n`;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function formatCsv(result: QueryResult): string {
  const lines = [result.columns.map((c) => csvField(c.name)).join(',')];
  for (const row of result.rows) lines.push(row.map((v) => (v === null ? '' : csvField(textCell(v, '')))).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** One JSON array of objects keyed by column name; a repeated column name gets `_2`, `_3`… */
export function formatJson(result: QueryResult): string {
  const keys: string[] = [];
  const seen = new Map<string, number>();
  for (const { name } of result.columns) {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    keys.push(n === 1 ? name : `${name}_${n}`);
  }
  const objects = result.rows.map((row) => {
    const object: Record<string, JsonValue> = {};
    row.forEach((value, i) => {
      object[keys[i]!] = jsonCell(value, result.columns[i]!);
    });
    return object;
  });
  return JSON.stringify(objects, null, 2) + '\n';
}

export function formatResult(result: QueryResult, format: QueryFormat): string {
  switch (format) {
    case 'table':
      return formatTable(result);
    case 'csv':
      return formatCsv(result);
    case 'json':
      return formatJson(result);
  }
}
