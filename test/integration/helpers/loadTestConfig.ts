import { loadConfig } from '../../../src/config/load.js';
import { configSchema, type Config, type ConfigInput } from '../../../src/config/schema.js';
import { PROJECT_CONFIG } from './projectRoot.js';
import { randomName } from './randomName.js';

/** Objects are merged key by key; arrays and scalars replace. */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      current !== null &&
      typeof current === 'object' &&
      !Array.isArray(current)
    ) {
      target[key] = merge({ ...(current as Record<string, unknown>) }, value as Record<string, unknown>);
    } else {
      target[key] = value;
    }
  }
  return target;
}

/**
 * `etl.windows` of the tests that do not choose it: $ETL_TEST_WINDOWS (`process`, `members` or `auto`), `process` when
 * unset, so that the same tests run against either window mode (architecture.md, "Windows across members"). `process`
 * by default for CI's 40 minutes on 2 cores: under `auto` (members for a test's new group) the waits for "every
 * window emitted" also wait for each partition's idle marks, which took the suite from 34-38 to 43.5 minutes. The
 * stages and `auto` have tests of their own that choose them (members, crashPoints, verifyMembers, windowsSwitch,
 * windowsModeOpenTransaction, repartitionPurge, chaos). Not an SDP_* variable: every SDP_* variable is a config key to
 * the CLI, and the ETL children inherit the test's environment.
 */
export function testWindowsMode(env: NodeJS.ProcessEnv = process.env): 'process' | 'members' | 'auto' {
  const mode = env.ETL_TEST_WINDOWS;
  if (mode === undefined || mode === '') return 'process';
  if (mode !== 'process' && mode !== 'members' && mode !== 'auto')
    throw new Error(`ETL_TEST_WINDOWS: expected process, members or auto, got ${JSON.stringify(mode)}`);
  return mode;
}

/**
 * Where a test's ETL computes its windows: `process` only when the config says so. `auto` chooses `members` for a
 * test's own new group (etl/windowsMode.ts), as `members` does.
 */
export function windowsModeOf(config: Config): 'process' | 'members' {
  return config.etl.windows === 'process' ? 'process' : 'members';
}

/**
 * The project's config.yml (plus SDP_* environment, as the CLI sees it) with `overrides` on top,
 * validated. Unless overridden, the topics and the consumer group get fresh random names, so each
 * test owns its own data on the shared cluster, and `etl.windows` is $ETL_TEST_WINDOWS when set.
 */
export function loadTestConfig(overrides: DeepPartial<ConfigInput> = {}): Config {
  const { effective } = loadConfig(PROJECT_CONFIG);
  const windows = testWindowsMode();
  const unique = {
    topics: { clickstream: randomName('clickstream'), iot: randomName('iot') },
    etl: { consumer_group: randomName('sdp-etl'), windows },
  };
  const merged = merge(merge(structuredClone(effective), unique), overrides as Record<string, unknown>);
  return configSchema.parse(merged);
}
