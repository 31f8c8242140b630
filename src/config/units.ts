/** Parsing of human-friendly durations ("250ms", "10s", "5m", "1h") and sizes ("64KB", "128MB"). */

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Returns milliseconds, or undefined when the text is not a duration. A bare number means ms. */
export function parseDurationMs(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = (m[2] ?? 'ms').toLowerCase();
  return Math.round(Number(m[1]) * (DURATION_MS[unit] ?? 1));
}

/** Returns bytes, or undefined when the text is not a size. A bare number means bytes. */
export function parseSizeBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase();
  return Math.round(Number(m[1]) * (SIZE_BYTES[unit] ?? 1));
}
