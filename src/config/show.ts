import { SECRET_PATHS } from './schema.js';

export const REDACTED = '[redacted]';

/** Flattens a config to sorted `dotted.key = value` lines, secrets redacted. */
export function flattenConfig(
  value: unknown,
  prefix = '',
  out: Array<[string, unknown]> = [],
): Array<[string, unknown]> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      flattenConfig(child, prefix ? `${prefix}.${key}` : key, out);
    }
  } else {
    out.push([prefix, SECRET_PATHS.includes(prefix) && value !== null ? REDACTED : value]); // unset stays visible as null
  }
  return out;
}

/** One line per key: `dotted.key = value   # default | file | from SDP_VARIABLE`. */
export function renderConfigShow(
  effective: Record<string, unknown>,
  overriddenBy: Record<string, string>,
  sources: Record<string, string> = {},
): string {
  return flattenConfig(effective)
    .map(([key, value]) => {
      const source = overriddenBy[key] ? `from ${overriddenBy[key]}` : (sources[key] ?? '');
      return `${key} = ${JSON.stringify(value)}${source ? `   # ${source}` : ''}`;
    })
    .join('\n');
}
