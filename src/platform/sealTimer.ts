/**
 * The sealer inside `run`/`etl` (architecture.md, "Sealed days"): a pass 30 s after the start, then 5 minutes after
 * each pass ended, so never two at once. It only
 * writes manifests, so a failure is logged at warn and tried again at the next interval; it never fails the ETL. The
 * last pass's manifests feed /metrics (late rows per table and dt).
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { SealPassResult } from '../lake/sealer.js';

export const SEAL_EVERY_MS = 5 * 60_000;
/** The first pass, soon after a start: a day that became sealable while the platform was down shows without delay. */
export const SEAL_FIRST_MS = 30_000;

/** What the last pass found: one row per table and sealed day. */
export interface SealedDaysStatus {
  /** When the last pass ended (epoch ms); null before the first. */
  lastPassMs: number | null;
  watermarkBoundMs: number | null;
  manifests: Array<{ table: string; dt: string; rows: number; lateRows: number; revision: number }>;
  /** Passes that failed since the ETL started. */
  failures: number;
}

export interface SealTimer {
  status(): SealedDaysStatus;
  stop(): void;
}

export function startSealTimer(
  config: Config,
  logger: Logger,
  pass: () => Promise<SealPassResult>,
  everyMs: number = SEAL_EVERY_MS,
  firstMs: number = SEAL_FIRST_MS,
): SealTimer {
  const status: SealedDaysStatus = { lastPassMs: null, watermarkBoundMs: null, manifests: [], failures: 0 };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (afterMs: number): void => {
    if (stopped) return;
    timer = setTimeout(tick, afterMs);
    timer.unref();
  };
  const tick = (): void => {
    pass()
      .then((result) => {
        status.lastPassMs = Date.now();
        status.watermarkBoundMs = result.watermarkBoundMs ?? null;
        status.manifests = result.tables
          .filter((t) => t.action !== 'would_seal')
          .map((t) => ({ table: t.table, dt: t.dt, rows: t.rows, lateRows: t.lateRows, revision: t.revision }));
      })
      .catch((err: unknown) => {
        status.failures += 1;
        logger.warn(
          { component: 'sealer', err, seal_after_ms: config.lake.seal_after },
          'sealer pass failed; tried again at the next interval',
        );
      })
      .finally(() => schedule(everyMs));
  };
  schedule(Math.min(firstMs, everyMs));
  return {
    status: () => ({ ...status, manifests: [...status.manifests] }),
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
