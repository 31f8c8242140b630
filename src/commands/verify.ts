/**
 * `verify [--table T] [--since DT] [--json]`: the lake proved against Kafka and the checkpoint
 * store (architecture.md, "Verifying the lake"). Read-only and safe while the platform runs.
 * Exit 0 when every check holds, 1 with the findings otherwise; bad usage or config exits 2,
 * Kafka unreachable 1 with its SDP_ERR_ line.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ErrorCodes, SdpError } from '../errors.js';
import { CHECKPOINT_FILE } from '../platform/supervisor.js';
import { WINDOW_SIZE_MS } from '../platform/etlRuntime.js';
import { formatFinding } from '../verify/findings.js';
import { summaryLine } from '../verify/summary.js';
import { VERIFY_TABLES, verifyLake, type VerifyTable } from '../verify/verifyLake.js';
import type { CommandContext } from './context.js';

/** Findings printed as text before the summary; --json carries them all. */
const TEXT_FINDINGS = 50;

export function registerVerifyCommand(program: Command, context: CommandContext): void {
  program
    .command('verify')
    .description(
      'prove the lake against Kafka and the checkpoint store: offsets tiled, counts per file, windows (read-only)',
    )
    .option('--table <table>', `only this table: ${VERIFY_TABLES.join(', ')}`)
    .option('--since <dt>', 'only dt partitions on or after this day (YYYY-MM-DD)')
    .option('--json', 'one JSON object: the counts and every finding')
    .action(async (opts: { table?: string; since?: string; json?: boolean }) => {
      if (opts.table !== undefined && !VERIFY_TABLES.includes(opts.table as VerifyTable))
        throw new SdpError(ErrorCodes.USAGE, `--table must be one of ${VERIFY_TABLES.join(', ')}, got ${opts.table}`);
      if (opts.since !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.since))
        throw new SdpError(ErrorCodes.USAGE, `--since must be a day as YYYY-MM-DD, got ${opts.since}`);
      const { config } = context.config();
      const report = await verifyLake(
        config,
        {
          storeFile: join(resolve(config.storage.checkpoint_root), CHECKPOINT_FILE),
          table: opts.table as VerifyTable | undefined,
          since: opts.since,
          windowSizeMs: WINDOW_SIZE_MS,
          nowMs: Date.now(),
        },
        context.logger(2),
      );
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ ...report.counts, passed: report.passed, findings: report.findings })}\n`,
        );
      } else {
        const lines = report.findings.slice(0, TEXT_FINDINGS).map(formatFinding);
        if (report.findings.length > TEXT_FINDINGS)
          lines.push(`… ${report.findings.length - TEXT_FINDINGS} more findings (--json lists them all)`);
        lines.push(summaryLine(report.counts));
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      if (!report.passed) process.exitCode = 1;
    });
}
