/**
 * `data stats`, `data windows` and `data clean`: looking at and emptying the platform's storage roots
 * (architecture.md, "Storage roots and cleaning"). Cleaning deletes only inside roots carrying the platform's
 * marker, only while the platform is stopped, after a y/N question (or --yes), and never leaves a
 * checkpoint store that disagrees with the lake.
 */
import { createInterface } from 'node:readline/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readCheckpointStore } from '../checkpoint/storeReader.js';
import { rewriteStoreKeepingOffsets } from '../checkpoint/storeRewrite.js';
import { ErrorCodes, SdpError } from '../errors.js';
import { listLakeFiles } from '../lake/lakeFiles.js';
import { runningSigns } from '../services/platformRunning.js';
import { pidFilePath } from '../services/pidFile.js';
import { assertSafeRoots, emptyRoot, measureRoot, type CleanTarget } from '../storage/safeClean.js';
import { CHECKPOINT_FILE } from '../platform/supervisor.js';
import { collectDataStats, renderDataStats } from './dataStats.js';
import { collectWindowState, renderWindowState } from './dataWindows.js';
import type { CommandContext } from './context.js';

export { REPO_DIR } from '../storage/repoDir.js';
import { REPO_DIR } from '../storage/repoDir.js';

export type CleanScope = 'all' | 'lake' | 'checkpoints';

export interface CleanOptions {
  scope: CleanScope;
  yes: boolean;
  force: boolean;
}

function mb(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

async function confirm(question: string): Promise<boolean | undefined> {
  if (!process.stdin.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export async function cleanData(
  context: CommandContext,
  options: CleanOptions,
  out: (line: string) => void,
): Promise<void> {
  const { config } = context.config();
  const lakeRoot = config.storage.datalake_root;
  const checkpointRoot = config.storage.checkpoint_root;
  const storeFile = join(resolve(checkpointRoot), CHECKPOINT_FILE);

  const signs = runningSigns(storeFile, pidFilePath(resolve(config.services.run_dir)));
  if (signs.length > 0) {
    throw new SdpError(
      ErrorCodes.STORAGE_PLATFORM_RUNNING,
      'the platform is running: stop it before cleaning; nothing was deleted',
      signs.map((s) => `${s.what}: ${s.stop}`),
    );
  }

  const targets: CleanTarget[] = [];
  if (options.scope !== 'checkpoints') targets.push({ kind: 'datalake', configured: lakeRoot });
  if (options.scope !== 'lake') targets.push({ kind: 'checkpoints', configured: checkpointRoot });
  assertSafeRoots(targets, REPO_DIR, [lakeRoot, checkpointRoot, config.kafka.local.data_dir]);

  const store = readCheckpointStore(storeFile);
  const lakeFiles = listLakeFiles(resolve(lakeRoot)).filter((f) => f.path.endsWith('.parquet')).length;
  const consequences: string[] = [];
  let rewriteStore = false;
  if (options.scope === 'lake' && store.state.checkpoints > 0) {
    if (!options.force) {
      throw new SdpError(
        ErrorCodes.STORAGE_CLEAN_REFUSED,
        'cleaning the lake alone would keep checkpoints that say its data is there; nothing was deleted',
        [
          `the checkpoint store (${store.state.checkpoints} checkpoints) says every event up to its offsets is in the lake: after deleting the lake those events are gone and are NOT read again`,
          'to start over (the next run reads the topics again from their start, as far as Kafka retention allows): `make clean-data` (node dist/main.js data clean --all)',
          'to keep the offsets anyway (the lake restarts empty and fills with new events only): add --force; `make clean-datalake` does so and asks y/N first (FORCE=1 does not ask)',
        ],
      );
    }
    rewriteStore = true;
    consequences.push(
      'the checkpoint store keeps its offsets and window state (pending renames dropped): the next run continues after them; older events are not written again',
    );
  }
  if (options.scope === 'checkpoints' && lakeFiles > 0) {
    consequences.push(
      `the lake keeps ${lakeFiles} committed files: the next start rebuilds the durable offsets from their names, so no event is written twice (clickstream is read again from its start for the page-view windows only)`,
    );
  }
  if (options.scope === 'all')
    consequences.push(
      'the next run reads the topics from their start (as far as Kafka retention allows) into an empty lake',
    );

  const measured = targets.map((t) => ({ ...t, ...measureRoot(t.configured) }));
  for (const m of measured)
    out(
      `${m.kind} root ${resolve(m.configured)}: ${m.files} files, ${mb(m.bytes)} to delete (its .sdp-root marker stays)`,
    );
  for (const c of consequences) out(`then: ${c}`);

  // The question names what is lost, not only what is deleted: answering it is the decision.
  const question = rewriteStore
    ? `delete the lake and keep the offsets of ${store.state.checkpoints} checkpoints, so that its events are NOT read again?`
    : 'delete them?';
  if (!options.yes) {
    const answer = await confirm(question);
    if (answer === undefined) {
      throw new SdpError(
        ErrorCodes.STORAGE_CLEAN_REFUSED,
        `no terminal to ask y/N (${question}): nothing was deleted`,
        ['pass --yes (make … FORCE=1) to delete without asking'],
      );
    }
    if (!answer) {
      out('nothing deleted');
      return;
    }
  }
  for (const t of targets) {
    const done = emptyRoot(t.configured);
    out(`${t.kind}: deleted ${done.files} files (${mb(done.bytes)}) in ${done.root}`);
  }
  if (rewriteStore) {
    const events = await rewriteStoreKeepingOffsets(storeFile, store.state);
    out(`checkpoints: store rewritten with ${events} sink offsets and no pending renames`);
  }
}

export function registerDataCommands(program: Command, context: CommandContext): void {
  const data = program
    .command('data')
    .description("what the lake, the checkpoint store and the windows' state hold, and cleaning them safely");

  data
    .command('stats')
    .description(
      "per table: dt partitions, files, rows, bytes, event-time range (Parquet footers); rejected rows by reason; checkpoint store; per partition durable offset, log end offset, lag; the window stages' internal topics",
    )
    .option('--json', 'one JSON document for scripts')
    .action(async (opts: { json?: boolean }) => {
      const { config } = context.config();
      const stats = await collectDataStats(config, context.logger(2));
      process.stdout.write(opts.json ? `${JSON.stringify(stats, null, 2)}\n` : `${renderDataStats(stats)}\n`);
    });

  data
    .command('windows')
    .description(
      "the page-view windows' committed state: late events, emitted frontier, global watermark, open windows; from the checkpoint store (etl.windows: process) or the stage-2 snapshots in <group>-pv-state (members)",
    )
    .option('--json', 'one JSON document for scripts (the notebook reads it)')
    .action(async (opts: { json?: boolean }) => {
      const { config } = context.config();
      const report = await collectWindowState(config, context.logger(2));
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderWindowState(report)}\n`);
    });

  data
    .command('clean')
    .description('empty the lake and/or the checkpoint store (only marked roots, platform stopped, asks y/N)')
    .option('--all', 'the lake and the checkpoint store (make clean-data)')
    .option('--lake', 'the lake only (make clean-datalake); refused without --force while checkpoints exist')
    .option(
      '--checkpoints',
      'the checkpoint store only (make clean-checkpoints); the next start rebuilds offsets from the lake',
    )
    .option('--yes', 'do not ask (make … FORCE=1)')
    .option('--force', 'clean the lake even though the checkpoint store keeps its offsets (make clean-datalake)')
    .action(async (opts: { all?: boolean; lake?: boolean; checkpoints?: boolean; yes?: boolean; force?: boolean }) => {
      const scopes = (['all', 'lake', 'checkpoints'] as const).filter((s) => opts[s]);
      if (scopes.length !== 1)
        throw new SdpError(ErrorCodes.USAGE, 'data clean needs exactly one of --all, --lake, --checkpoints');
      await cleanData(context, { scope: scopes[0]!, yes: opts.yes ?? false, force: opts.force ?? false }, (line) =>
        process.stdout.write(`${line}\n`),
      );
    });
}
