/**
 * The notebook finds the lake as the CLI does: analysis/sdp_lake.py reads config.yml and applies
 * the SDP_ environment overrides by the rule of src/config/envOverrides.ts. Both sides run on the
 * same environment here and must agree on every key, and on the error for a key that does not exist.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { SdpError } from '../../../src/errors.js';
import { assertVenv, runPython } from '../helpers/notebookRunner.js';
import { PROJECT_CONFIG, PROJECT_ROOT } from '../helpers/projectRoot.js';

const PYTHON_LOAD = `
import json, sys
sys.path.insert(0, "analysis")
import sdp_lake
try:
    c = sdp_lake.load_config()
    print(json.dumps({"effective": c.effective, "overridden_by": c.overridden_by, "datalake_root": str(c.datalake_root), "file": str(c.file)}))
except sdp_lake.ConfigError as err:
    print(json.dumps({"problems": err.problems}))
`;

interface PythonView {
  effective?: Record<string, unknown>;
  overridden_by?: Record<string, string>;
  datalake_root?: string;
  file?: string;
  problems?: string[];
}

/** Only the given variables, no SDP_ ones inherited from the test's own environment. */
function cleanEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SDP_')) env[k] = v;
  return { ...env, ...vars };
}

async function pythonLoad(vars: Record<string, string>): Promise<PythonView> {
  const result = await runPython(['-c', PYTHON_LOAD], cleanEnv(vars), 60_000);
  if (result.code !== 0) throw new Error(`python exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as PythonView;
}

describe('analysis/sdp_lake.py reads config.yml and SDP_ overrides as the CLI does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-lake-config-'));
  beforeAll(() => assertVenv());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every key the same value for numbers, booleans, lists, JSON lists, text and nested keys', async () => {
    const vars = {
      SDP_KAFKA__PARTITIONS: '6',
      SDP_KAFKA__SSL: 'no',
      SDP_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:19092, 127.0.0.1:29092',
      SDP_KAFKA__EXTERNAL_PORTS: '[19092, 29092, 39092]',
      SDP_STORAGE__DATALAKE_ROOT: '/tmp/somewhere/lake',
      SDP_ETL__WATERMARK_DELAY: '5s',
      SDP_DATA_GENERATOR__EVENTS_PER_SECOND__CLICKSTREAM: '500',
      SDP_TOPICS__IOT: 'iot-elsewhere',
    };
    const ts = loadConfig(PROJECT_CONFIG, cleanEnv(vars));
    const py = await pythonLoad(vars);
    expect(py.effective).toEqual(ts.effective);
    expect(py.overridden_by).toEqual(ts.overriddenBy);
    expect(py.datalake_root).toBe('/tmp/somewhere/lake');
    // Spot checks that the comparison is not between two equally wrong copies.
    expect((ts.effective.kafka as Record<string, unknown>).partitions).toBe(6);
    expect((ts.effective.kafka as Record<string, unknown>).ssl).toBe(false);
    expect((ts.effective.kafka as Record<string, unknown>).bootstrap_servers).toEqual([
      '127.0.0.1:19092',
      '127.0.0.1:29092',
    ]);
  });

  it('refuses an SDP_ variable that names no key, with the same line as the CLI', async () => {
    const vars = { SDP_STORAGE__DATALAKE_ROTO: '/tmp/x' };
    let tsProblems: readonly string[] = [];
    try {
      loadConfig(PROJECT_CONFIG, cleanEnv(vars));
    } catch (err) {
      tsProblems = (err as SdpError).details;
    }
    expect(tsProblems).toEqual([
      'storage.datalake_roto: unknown key (from environment variable SDP_STORAGE__DATALAKE_ROTO)',
    ]);
    expect((await pythonLoad(vars)).problems).toEqual(tsProblems);
  });

  it('reads the file SDP_CONFIG names and resolves a relative lake root against the working directory', async () => {
    const file = join(dir, 'other.yml');
    writeFileSync(
      file,
      readFileSync(PROJECT_CONFIG, 'utf8').replace('datalake_root: ./data/datalake', 'datalake_root: ./elsewhere/lake'),
    );
    const py = await pythonLoad({ SDP_CONFIG: file });
    expect(py.file).toBe(file);
    expect(py.datalake_root).toBe(resolve(PROJECT_ROOT, 'elsewhere/lake'));
    expect(py.effective).toEqual(loadConfig(file, cleanEnv({})).effective);
  });
});

const PYTHON_WINDOWS = `
import json, sys
sys.path.insert(0, "analysis")
import sdp_lake
print(json.dumps(sdp_lake.window_state_of(sdp_lake.load_config(), *sys.argv[1:])))
`;

/**
 * With etl.windows: members the window state is in Kafka, which analysis/sdp_lake.py reads through the project's
 * CLI (\`data windows --json\`); what it cannot reach, it says (the notebook test covers the figures, either mode).
 */
describe('analysis/sdp_lake.py window_state_of in members mode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-lake-windows-'));
  beforeAll(() => assertVenv());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function windowState(vars: Record<string, string>, projectRoot?: string): Promise<Record<string, unknown>> {
    const args = ['-c', PYTHON_WINDOWS, ...(projectRoot ? [projectRoot] : [])];
    const result = await runPython(args, cleanEnv({ SDP_ETL__WINDOWS: 'members', ...vars }), 60_000);
    if (result.code !== 0) throw new Error(`python exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  it("names an unreachable Kafka with the CLI's error line, within kafka.unreachable_timeout", async () => {
    const started = Date.now();
    const state = await windowState({
      SDP_ETL__CONSUMER_GROUP: 'sdp-lake-windows',
      SDP_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:1',
      SDP_KAFKA__UNREACHABLE_TIMEOUT: '3s',
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(state).toMatchObject({ source: 'pv-state topic', where: 'sdp-lake-windows-pv-state' });
    expect(state.error).toMatch(
      /^`data windows` exited 1: error SDP_ERR_KAFKA_UNREACHABLE: Kafka is unreachable at 127\.0\.0\.1:1/,
    );
  });

  it('says the CLI is not built when dist/main.js is missing', async () => {
    const state = await windowState({}, dir);
    expect(state.source).toBe('pv-state topic');
    expect(state.error).toBe(
      `the project's CLI is not built (${join(dir, 'dist', 'main.js')} is missing: \`npm run build\`), and only it reads Kafka`,
    );
  });
});
