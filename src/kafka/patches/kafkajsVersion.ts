/**
 * What every patch in this folder checks before it touches kafkajs's internals: the installed kafkajs is the
 * exact version they were written against, and whether a module of kafkajs is already loaded (a module that
 * bound another when it loaded no longer sees a swap of it).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The only kafkajs version whose internals the patches were written against (pinned in package.json). */
export const PATCHED_KAFKAJS_VERSION = '2.2.4';

export type KafkajsVersionCheck = { ok: true; version: string } | { ok: false; version?: string; reason: string };

/** `patch` names what stands aside on a mismatch, for the reason ("the lean fetch decoder"). */
export function checkKafkajsVersion(patch: string): KafkajsVersionCheck {
  let version: string;
  try {
    version = (require('kafkajs/package.json') as { version: string }).version;
  } catch (err) {
    return { ok: false, reason: `kafkajs not found: ${String(err)}` };
  }
  if (version !== PATCHED_KAFKAJS_VERSION) {
    return {
      ok: false,
      version,
      reason: `kafkajs ${version} is installed; ${patch} written for ${PATCHED_KAFKAJS_VERSION} only`,
    };
  }
  return { ok: true, version };
}

export function isLoaded(specifier: string): boolean {
  try {
    return require.cache[require.resolve(specifier)] !== undefined;
  } catch {
    return false;
  }
}
