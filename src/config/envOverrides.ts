import type { z } from 'zod';

/**
 * Environment overrides: `SDP_` + the dotted path in capitals with `__` between levels
 * (`SDP_KAFKA__PARTITIONS=6` → kafka.partitions). The value is parsed by the key's type in the
 * schema, so a number stays a number and a list can be given as `a,b,c` or as JSON.
 */

export const ENV_PREFIX = 'SDP_';
/** Variables with the prefix that are not config keys. */
// SDP_FAULT: crash points for tests (src/system/faults.ts), read apart from the config.
const NOT_CONFIG = new Set(['SDP_CONFIG', 'SDP_FAULT']);

export interface EnvOverride {
  variable: string;
  path: string[];
  value: unknown;
}

export interface EnvOverrideResult {
  overrides: EnvOverride[];
  /** Problems such as an unknown key, as `path: message` lines. */
  problems: string[];
}

type Kind = 'number' | 'boolean' | 'string' | 'array' | 'object' | 'text' | 'boolean-or-object';

// The walk uses zod's public API only: `.type` names a schema's kind, and each kind's own accessor
// (`unwrap()`, `.in`, `.shape`, `.options`, `.element`) reaches its children. zod's private
// `_zod.def` may change in any release.

/** The schema a value is parsed by: without optional, nullable and default wrappers, and a pipe's input. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (s.type === 'nullable' || s.type === 'optional' || s.type === 'default')
      s = (s as z.ZodNullable | z.ZodOptional | z.ZodDefault).unwrap() as z.ZodType;
    else if (s.type === 'pipe') s = (s as z.ZodPipe).in as z.ZodType;
    else return s;
  }
}

function unionOptions(schema: z.ZodType): z.ZodType[] {
  return (schema as z.ZodUnion).options.map((o) => unwrap(o as z.ZodType));
}

function kindOf(schema: z.ZodType): Kind {
  const s = unwrap(schema);
  switch (s.type) {
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return 'array';
    case 'object':
      return 'object';
    case 'union':
      // kafka.ssl: true/false (yes/no, 1/0, as any boolean) or a JSON object.
      if (unionOptions(s).some((o) => o.type === 'boolean')) return 'boolean-or-object';
      return 'text'; // durations and sizes accept "10s" as well as 10000
    default:
      return 'string';
  }
}

/** The schema node at a path, or undefined when no such key exists. */
export function schemaAt(root: z.ZodType, path: readonly string[]): z.ZodType | undefined {
  let node: z.ZodType | undefined = root;
  for (const key of path) {
    let obj = unwrap(node);
    // A union such as kafka.ssl (boolean or object): descend into its object option.
    if (obj.type === 'union') obj = unionOptions(obj).find((o) => o.type === 'object') ?? obj;
    const shape = obj.type === 'object' ? ((obj as z.ZodObject).shape as Record<string, z.ZodType>) : undefined;
    node = shape && Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!node) return undefined;
  }
  return node;
}

function parseScalar(raw: string, kind: Kind): unknown {
  const text = raw.trim();
  if (text === 'null') return null;
  if (kind === 'number') {
    const n = Number(text);
    return text !== '' && Number.isFinite(n) ? n : raw; // leave bad text for the schema to report
  }
  if (kind === 'boolean-or-object') {
    if (/^(true|1|yes)$/i.test(text)) return true;
    if (/^(false|0|no)$/i.test(text)) return false;
    if (text.startsWith('{')) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return raw;
      }
    }
    return raw;
  }
  if (kind === 'boolean') {
    if (/^(true|1|yes)$/i.test(text)) return true;
    if (/^(false|0|no)$/i.test(text)) return false;
    return raw;
  }
  return raw;
}

function parseValue(raw: string, schema: z.ZodType): unknown {
  const kind = kindOf(schema);
  if (kind === 'array') {
    const text = raw.trim();
    if (text.startsWith('[')) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return raw;
      }
    }
    const element = (unwrap(schema) as z.ZodArray).element as z.ZodType | undefined;
    const elementKind = element ? kindOf(element) : 'string';
    return text === '' ? [] : text.split(',').map((part) => parseScalar(part.trim(), elementKind));
  }
  if (kind === 'object') {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  return parseScalar(raw, kind);
}

export function readEnvOverrides(schema: z.ZodType, env: NodeJS.ProcessEnv): EnvOverrideResult {
  const overrides: EnvOverride[] = [];
  const problems: string[] = [];
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith(ENV_PREFIX) || NOT_CONFIG.has(variable)) continue;
    const raw = env[variable];
    if (raw === undefined) continue;
    const path = variable.slice(ENV_PREFIX.length).toLowerCase().split('__');
    const node = schemaAt(schema, path);
    if (!node || path.some((p) => p === '')) {
      problems.push(`${path.join('.')}: unknown key (from environment variable ${variable})`);
      continue;
    }
    overrides.push({ variable, path, value: parseValue(raw, node) });
  }
  return { overrides, problems };
}

/** Sets a value at a path, creating objects on the way (a null parent becomes an object). */
export function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  });
}
