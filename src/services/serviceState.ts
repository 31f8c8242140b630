/**
 * What `services up` remembers for `services down` (architecture.md, "Services and operating"):
 * `<services.run_dir>/services.json`, chiefly whether this `up` started Kafka, so `down` stops
 * only a cluster it started.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type KafkaMode = 'local' | 'docker' | 'external';

export interface KafkaRecord {
  /**
   * local: brokers of kafka.local.data_dir; docker: the compose cluster; external: a cluster this checkout did not
   * start.
   */
  mode: KafkaMode;
  /** True when this `up` started it: `down` then stops it. */
  startedByUs: boolean;
  bootstrap: string;
}

export interface ServicesState {
  kafka?: KafkaRecord;
  /** ISO time of the `up` that wrote this. */
  updatedAt: string;
}

export const STATE_FILE = 'services.json';
export const LOG_FILE = 'platform.log';
/** The platform's own stdout/stderr (errors printed before or outside the logger); truncated at each start. */
export const OUT_FILE = 'platform.out';

export function statePath(runDir: string): string {
  return join(runDir, STATE_FILE);
}

export function readServicesState(runDir: string): ServicesState | undefined {
  try {
    const value = JSON.parse(readFileSync(statePath(runDir), 'utf8')) as ServicesState;
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

export function writeServicesState(runDir: string, state: ServicesState): void {
  mkdirSync(runDir, { recursive: true, mode: 0o750 });
  writeFileSync(statePath(runDir), `${JSON.stringify(state, null, 2)}\n`);
}

export function removeServicesState(runDir: string): void {
  rmSync(statePath(runDir), { force: true });
}
