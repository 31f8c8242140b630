import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { describeEmptyTables } from '../query/lakeViews.js';
import { isQueryFormat, QUERY_FORMATS, type QueryFormat } from '../query/queryResult.js';
import { formatResult } from '../query/resultFormat.js';
import type { CommandContext } from './context.js';

function parseFormat(value: string): QueryFormat {
  if (!isQueryFormat(value)) throw new InvalidArgumentError(`expected one of ${QUERY_FORMATS.join(', ')}`);
  return value;
}

/**
 * `query "<SQL>"`: SQL over the lake with DuckDB, the tables clickstream, iot, clickstream_agg and
 * _rejected as views. Rows go to stdout; notes (tables without data) to stderr, so csv and json
 * stay clean for programs. Exit 0, or 2 for a statement DuckDB refuses, or 1 when it needs a
 * table that has no data yet or DuckDB fails while running it. Needs no Kafka.
 */
export function registerQueryCommand(program: Command, context: CommandContext): void {
  program
    .command('query')
    .description(
      'run SQL over the lake with DuckDB; views: clickstream, iot, clickstream_agg, _rejected (dt is a DATE)',
    )
    .argument('<sql>', 'one or more SQL statements; the rows of the last one are printed')
    .option('--format <format>', `output format: ${QUERY_FORMATS.join(', ')}`, parseFormat, 'table' as QueryFormat)
    .action(async (sql: string, opts: { format: QueryFormat }) => {
      const { config } = context.config();
      // Loaded here, not at the top: DuckDB's native library costs every other command ~35 MB and a second.
      const { queryLake } = await import('../query/lakeQuery.js');
      const { scan, plan, unreadable, result } = await queryLake(config.storage.datalake_root, sql);
      const note = describeEmptyTables(plan, scan.root);
      if (note !== undefined) process.stderr.write(`note: ${note}\n`);
      for (const u of unreadable)
        process.stderr.write(`note: table ${u.table} cannot be read: ${u.message.split('\n')[0]}\n`);
      process.stdout.write(formatResult(result, opts.format));
    });
}
