import type { Logger } from '../log/logger.js';
import type { Platform } from '../platform/supervisor.js';
import type { ShutdownReport } from '../platform/platformMetrics.js';
import { onShutdownSignals } from '../system/signals.js';

/** A stop request that any part of a command can make (count reached, duration elapsed, signal). */
export interface StopRequest {
  request(reason: string): void;
  readonly requested: Promise<string>;
}

export function createStopRequest(): StopRequest {
  let resolve!: (reason: string) => void;
  const requested = new Promise<string>((r) => {
    resolve = r;
  });
  return { request: (reason) => resolve(reason), requested };
}

/**
 * Starts the platform and runs it until a stop is requested (or a signal arrives, or a component
 * fails), then shuts it down gracefully and sets the exit code: 0 after a graceful stop, 1 after a
 * failure. Signal handlers are installed before the start, so a SIGTERM during a slow start (lake
 * recovery, the group join) is honoured as soon as the start completes.
 */
export async function runUntilStopped(
  start: () => Promise<Platform>,
  logger: Logger,
  stop: StopRequest,
  durationSeconds?: number,
): Promise<ShutdownReport> {
  const removeSignals = onShutdownSignals(logger, (signal) => stop.request(signal));
  try {
    const platform = await start();
    const timer = durationSeconds
      ? setTimeout(() => stop.request('duration elapsed'), durationSeconds * 1000)
      : undefined;
    const outcome = await Promise.race([
      stop.requested.then((reason) => ({ reason, failed: false })),
      platform.fatal.then((f) => ({ reason: `${f.component} failed: ${f.error}`, failed: true })),
    ]);
    clearTimeout(timer);
    const report = await platform.shutdown(outcome.reason);
    if (outcome.failed) report.exitCode = 1;
    process.exitCode = report.exitCode;
    return report;
  } finally {
    removeSignals();
  }
}
