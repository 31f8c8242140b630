import { DuckDBInstance, type DuckDBConnection, type Json } from '@duckdb/node-api';

/** DuckDB as the independent reader of the lake's files (test helper, not a test file). */
export interface Reader {
  rows(sql: string): Promise<Record<string, Json>[]>;
  close(): void;
}

export async function openReader(): Promise<Reader> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection: DuckDBConnection = await instance.connect();
  return {
    async rows(sql) {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjectsJson() as Record<string, Json>[];
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** A path inside a single-quoted SQL string literal. */
export function sqlPath(p: string): string {
  return `'${p.replaceAll("'", "''")}'`;
}
