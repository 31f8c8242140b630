import { createLogger, type Logger } from '../../../src/log/logger.js';

/** Silent unless TEST_LOG_LEVEL names a level (e.g. TEST_LOG_LEVEL=debug npx vitest ...). */
export function testLogger(): Logger {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', format: 'json', fd: 2 });
}
