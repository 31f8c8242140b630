import type { Logger } from '../log/logger.js';

/**
 * SIGTERM / SIGINT: the first starts a graceful shutdown; a second one exits at once (the
 * checkpoint protocol still guarantees that nothing is lost or duplicated).
 */
export function onShutdownSignals(logger: Logger, graceful: (signal: NodeJS.Signals) => void): () => void {
  let received = 0;
  const handler = (signal: NodeJS.Signals): void => {
    received += 1;
    if (received === 1) {
      logger.info({ signal }, 'shutdown requested; a second signal exits at once');
      graceful(signal);
      return;
    }
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(130);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
