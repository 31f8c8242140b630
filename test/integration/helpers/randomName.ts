import { randomBytes } from 'node:crypto';

/**
 * The tag of this test run (`x` and 4 hex digits, set by globalSetup.ts for the workers it starts): every name made
 * here carries it, so that the run's teardown deletes exactly the topics its tests left on a shared cluster and
 * never another run's.
 */
export const TEST_RUN_TAG_ENV = 'TEST_RUN_TAG';

export function newTestRunTag(): string {
  return `x${randomBytes(2).toString('hex')}`;
}

/** A name no other test run uses, e.g. `clickstream-m3x9k2-x01af4f1a9c`: for topics, groups, directories. */
export function randomName(prefix: string): string {
  const tag = process.env[TEST_RUN_TAG_ENV] ?? '';
  return `${prefix}-${Date.now().toString(36)}-${tag}${randomBytes(3).toString('hex')}`;
}
