import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ErrorCodes, SdpError } from '../errors.js';
import { readEnvOverrides, setPath } from './envOverrides.js';
import { configSchema, type Config } from './schema.js';
import { resolveSecretFiles } from './secretFiles.js';
import { DEFAULT_CONFIG, mergeOverDefaults, setsPath } from './defaults.js';
import { translateLegacyConfig } from './legacyKeys.js';
import { flattenConfig } from './show.js';

export const DEFAULT_CONFIG_FILE = 'config.yml';

export interface LoadedConfig {
  /** The validated config: durations in ms, sizes in bytes. */
  config: Config;
  /** The effective config as written (file + environment), for `config show`. */
  effective: Record<string, unknown>;
  file: string;
  /** Which environment variables changed which keys. */
  overriddenBy: Record<string, string>;
  /** Where each dotted key's value comes from: `default`, `file` or `environment`. */
  sources: Record<string, ConfigSource>;
  /** Keys of the original platform's config.yml read under their new names, or ignored. */
  warnings: string[];
}

export type ConfigSource = 'default' | 'file' | 'environment';

/** Picks the file: an explicit path, else $SDP_CONFIG, else ./config.yml. */
export function configFilePath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit ?? env.SDP_CONFIG ?? DEFAULT_CONFIG_FILE);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function joinPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(root)';
}

/** One line per problem: `dotted.path: what was expected (got what)`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], overriddenBy: Record<string, string>): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${joinPath([...issue.path, key])}: unknown key`);
      continue;
    }
    const path = joinPath(issue.path);
    if ('input' in issue && issue.input === undefined) {
      const expected = issue.code === 'invalid_type' ? issue.expected : 'a value';
      lines.push(`${path}: missing key (expected ${expected})`);
      continue;
    }
    const source = overriddenBy[path] ? ` (from environment variable ${overriddenBy[path]})` : '';
    // Never echo a value under kafka.sasl: it may be the password.
    const secret = path === 'kafka.sasl' || path.startsWith('kafka.sasl.');
    const got = issue.code === 'custom' || !('input' in issue) || secret ? '' : ` (got ${describe(issue.input)})`;
    const message =
      issue.code === 'invalid_union'
        ? 'expected a number or a text with a unit'
        : issue.message
            .replace(/^Invalid input: /, '')
            .replace(/^Too (small|big): /, '')
            .replace(/, received \w+$/, '');
    lines.push(`${path}: ${message}${got}${source}`);
  }
  return lines;
}

/** Parses YAML text and environment overrides into a validated config; throws SdpError(CONFIG_*). */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SdpError(
      ErrorCodes.CONFIG_YAML,
      `config file ${file} is not valid YAML`,
      doc.errors.map((e) => e.message.split('\n')[0] ?? e.message),
    );
  }
  // An empty file is a file that changes nothing: every key takes its default.
  const parsed: unknown = doc.toJS() ?? {};
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SdpError(ErrorCodes.CONFIG_INVALID, `config file ${file} is invalid`, [
      '(root): expected a mapping of sections (kafka, data_generator, etl, storage, topics, ui, log)',
    ]);
  }
  const { doc: fileDoc, warnings } = translateLegacyConfig(
    parsed as Record<string, unknown>,
    DEFAULT_CONFIG.kafka.external_ports,
  );
  const effective = mergeOverDefaults(DEFAULT_CONFIG, fileDoc) as Record<string, unknown>;
  const { overrides, problems } = readEnvOverrides(configSchema, env);
  const overriddenBy: Record<string, string> = {};
  for (const o of overrides) {
    setPath(effective, o.path, o.value);
    overriddenBy[o.path.join('.')] = o.variable;
  }
  const result = configSchema.safeParse(effective, { reportInput: true });
  const lines = [...problems, ...(result.success ? [] : formatIssues(result.error.issues, overriddenBy))];
  if (lines.length > 0 || !result.success) {
    throw new SdpError(
      ErrorCodes.CONFIG_INVALID,
      `config file ${file} is invalid (${lines.length} problem${lines.length === 1 ? '' : 's'})`,
      lines,
    );
  }
  const fileProblems = resolveSecretFiles(result.data);
  if (fileProblems.length > 0) {
    throw new SdpError(
      ErrorCodes.CONFIG_INVALID,
      `config file ${file} is invalid (${fileProblems.length} problem${fileProblems.length === 1 ? '' : 's'})`,
      fileProblems,
    );
  }
  const sources: Record<string, ConfigSource> = {};
  for (const [key] of flattenConfig(effective)) {
    sources[key] = overriddenBy[key] ? 'environment' : setsPath(fileDoc, key.split('.')) ? 'file' : 'default';
  }
  return { config: result.data, effective, file, overriddenBy, sources, warnings };
}

export function loadConfig(file: string = configFilePath(), env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SdpError(ErrorCodes.CONFIG_NOT_FOUND, `config file ${file} cannot be read (${code ?? String(err)})`, [
      `(file): expected a readable YAML file; pass --config <path> or set SDP_CONFIG`,
    ]);
  }
  return parseConfig(text, file, env);
}
