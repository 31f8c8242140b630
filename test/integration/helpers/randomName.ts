import { randomBytes } from 'node:crypto';

/** A name no other test run uses, e.g. `clickstream-m3x9k2-4f1a9c`: for topics, groups, directories. */
export function randomName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
