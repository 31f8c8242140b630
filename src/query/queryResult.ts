/**
 * One statement's answer as `query` prints it: column names and DuckDB type names, rows of JSON
 * values as @duckdb/node-api's `getRowsJson()` gives them (BIGINT, HUGEINT and DECIMAL as text,
 * timestamps as `YYYY-MM-DD HH:MM:SS[.fff]` text, lists and structs as JSON).
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface QueryColumn {
  name: string;
  /** DuckDB's type name: `BIGINT`, `DECIMAL(18,3)`, `TIMESTAMP`, `VARCHAR[]`… */
  type: string;
}

export interface QueryResult {
  columns: QueryColumn[];
  rows: JsonValue[][];
}

export const QUERY_FORMATS = ['table', 'csv', 'json'] as const;
export type QueryFormat = (typeof QUERY_FORMATS)[number];

export function isQueryFormat(value: string): value is QueryFormat {
  return (QUERY_FORMATS as readonly string[]).includes(value);
}
