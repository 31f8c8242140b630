import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './projectRoot.js';
import { type CliResult, runCommand } from './runCli.js';

/** The notebook's virtual environment, built by scripts/python-venv.sh (a `make test` prerequisite). */
export const VENV_PYTHON = join(PROJECT_ROOT, '.venv', 'bin', 'python');

export function assertVenv(): void {
  if (!existsSync(VENV_PYTHON)) {
    throw new Error(
      `${VENV_PYTHON} is missing: run \`bash scripts/python-venv.sh\` (make test runs it via scripts/test-prereqs.d/)`,
    );
  }
}

export type ProcessResult = CliResult;

/** Runs the venv's Python with `args` from the repository root, with extra environment. */
export function runPython(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 600_000,
): Promise<ProcessResult> {
  return runCommand(VENV_PYTHON, args, env, timeoutMs);
}

/** What the notebook's summary cell reports (the keys the tests read). */
export interface NotebookSummary {
  lake_root: string | null;
  config_problem: string | null;
  rows: Record<string, number>;
  files: Record<string, number>;
  top_url_raw?: { url: string; views: number };
  top_url_agg?: { url: string; views: number };
  pv_check?: {
    closed_windows: number;
    closed_pairs: number;
    mismatched_pairs: number;
    raw_minus_agg: number;
    agg_minus_raw: number;
    windows_written_twice: number;
  };
  /** `window_state`: the windows' lateEventsTotal, from `source` (`checkpoint store` or `pv-state topic`, by etl.windows). */
  late_events?: { window_state: number | null; source: string | null; lake_shortfall: number | null };
  rejected?: Record<string, number>;
  quality_checks?: Record<string, number>;
  [key: string]: unknown;
}

export interface AnalysisRun extends ProcessResult {
  /** The HTML report (the last line printed), when one was written. */
  reportPath?: string;
  summary?: NotebookSummary;
  /** The executed notebook's cells, to look at every output. */
  cells?: Array<{ cell_type: string; metadata: { tags?: string[] }; outputs?: Array<Record<string, unknown>> }>;
}

/**
 * `analysis/run_analysis.py --strict` (as `make analysis`, failing on any cell error or stderr
 * output): executes datalake_analysis.ipynb headless with nbclient against the lake the
 * environment names, and reads back what it wrote.
 */
export async function runAnalysis(env: NodeJS.ProcessEnv, outputDir: string): Promise<AnalysisRun> {
  const result = await runPython(['analysis/run_analysis.py', '--strict', '--output-dir', outputDir], env);
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  if (!last.endsWith('.html') || !existsSync(last)) return result;
  const base = last.slice(0, -'.html'.length);
  const summary = JSON.parse(readFileSync(`${base}.summary.json`, 'utf8')) as NotebookSummary;
  const notebook = JSON.parse(readFileSync(`${base}.ipynb`, 'utf8')) as { cells: AnalysisRun['cells'] };
  return { ...result, reportPath: last, summary, cells: notebook.cells };
}

/** Every output of the executed notebook as text (Markdown, plain text, streams), for assertions. */
export function outputTexts(run: AnalysisRun): string[] {
  const texts: string[] = [];
  for (const cell of run.cells ?? []) {
    for (const output of cell.outputs ?? []) {
      if (output.output_type === 'error') texts.push(`ERROR ${String(output.ename)}: ${String(output.evalue)}`);
      const text =
        output.text ??
        (output.data as Record<string, unknown> | undefined)?.['text/markdown'] ??
        (output.data as Record<string, unknown> | undefined)?.['text/plain'];
      if (text !== undefined) texts.push(Array.isArray(text) ? text.join('') : String(text));
    }
  }
  return texts;
}

/** Outputs that must never appear: an error, a traceback, anything on stderr. */
export function badOutputs(run: AnalysisRun): string[] {
  const bad: string[] = [];
  for (const cell of run.cells ?? []) {
    for (const output of cell.outputs ?? []) {
      if (output.output_type === 'error' || (output.output_type === 'stream' && output.name === 'stderr'))
        bad.push(JSON.stringify(output).slice(0, 500));
    }
  }
  return bad;
}
