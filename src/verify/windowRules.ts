/**
 * What the window accounting proves (architecture.md, "Verifying the lake" and "Event time"). Pure.
 *
 * Every valid clickstream event the window aggregator has read is, for its (minute, url), in an
 * emitted `clickstream_agg` row, in an open window of the aggregator's checkpointed state, or late
 * (its window was emitted before it came: counted in `lateEventsTotal`, in the raw table only).
 * The store keeps late events as one total, not per window, so per (minute, url)
 * `late = raw − pv − open` must be ≥ 0, and summed over all windows it must equal the total. This
 * holds only where the raw table and the aggregator hold the same records: every clickstream
 * partition's raw sink at the same offset as the aggregator's.
 */
import type { ExpiryRecord } from '../lake/expiryRecord.js';
import type { Finding } from './findings.js';

export interface WindowExample {
  minuteStartMs: number;
  url: string;
  raw: number;
  pv: number;
  open: number;
  file: string | null;
}

export interface WindowFacts {
  /** Rows of clickstream_agg checked. */
  windows: number;
  emittedTwice: { count: number; examples: Array<{ minuteStartMs: number; url: string; files: string[] }> };
  badBounds: {
    count: number;
    examples: Array<{ minuteStartMs: number; minuteEndMs: number; url: string; file: string }>;
  };
  /** Windows with raw − pv − open < 0. */
  overRaw: { count: number; examples: WindowExample[] };
  /** Windows with raw − pv − open > 0 (where late events are), and that sum. */
  short: { count: number; sum: number; examples: WindowExample[] };
}

/**
 * - `exact`: both sinks hold the same records and the whole lake is checked: Σ late = the total.
 * - `bounded`: the same, but only dt >= --since is checked: Σ late ≤ the total.
 * - `raw-ahead`: the raw table holds records the aggregator has not read yet: only pv + open ≤ raw.
 * - `none`: the raw table lacks records the aggregator counted (or the store has no window state):
 *   the counts cannot be compared now; duplicates and bounds still are.
 */
export type WindowComparison =
  | { mode: 'exact'; lateEventsTotal: number }
  | { mode: 'bounded'; lateEventsTotal: number }
  | { mode: 'raw-ahead'; reason: string }
  | { mode: 'none'; reason: string };

/**
 * The dts the window accounting leaves out on both sides: those some owner of clickstream or clickstream_agg expired
 * already (architecture.md, "Keeping the lake: retention"). The owners inside the ETL expire a day one after another,
 * so its windows may outlive some of its raw rows for a while. An iot or `_rejected` expiry of the same day says
 * nothing of the windows: their accounting stands.
 */
export function dtsOutOfWindowAccounting(expiry: Pick<ExpiryRecord, 'dts'> | undefined): Set<string> {
  return new Set([...(expiry?.dts.clickstream ?? []), ...(expiry?.dts.clickstream_agg ?? [])]);
}

const iso = (ms: number): string => new Date(ms).toISOString();

function describe(w: WindowExample): string {
  return `${iso(w.minuteStartMs)} ${w.url}: pv ${w.pv}${w.open > 0 ? ` + open ${w.open}` : ''}, raw ${w.raw}`;
}

export function judgeWindows(
  facts: WindowFacts,
  comparison: WindowComparison,
): { findings: Finding[]; mismatches: number } {
  const findings: Finding[] = [];
  let mismatches = 0;
  const table = 'clickstream_agg';
  for (const e of facts.emittedTwice.examples)
    findings.push({
      kind: 'window_mismatch',
      table,
      files: e.files,
      message: `window ${iso(e.minuteStartMs)} ${e.url} emitted ${e.files.length} times`,
    });
  mismatches += facts.emittedTwice.count;
  for (const e of facts.badBounds.examples)
    findings.push({
      kind: 'window_mismatch',
      table,
      files: [e.file],
      message: `window ${e.url} has minute_start ${iso(e.minuteStartMs)} and minute_end ${iso(e.minuteEndMs)}: not one aligned minute`,
    });
  mismatches += facts.badBounds.count;
  if (comparison.mode === 'none') {
    findings.push({ kind: 'note', table, message: `page views not compared with the raw table: ${comparison.reason}` });
    return { findings, mismatches };
  }
  for (const w of facts.overRaw.examples)
    findings.push({
      kind: 'window_mismatch',
      table,
      ...(w.file ? { files: [w.file] } : {}),
      message: `window ${describe(w)}: more page views than raw events`,
    });
  mismatches += facts.overRaw.count;
  if (comparison.mode === 'raw-ahead') {
    findings.push({ kind: 'note', table, message: `late events not compared: ${comparison.reason}` });
    return { findings, mismatches };
  }
  const total = comparison.lateEventsTotal;
  const sumHolds = comparison.mode === 'exact' ? facts.short.sum === total : facts.short.sum <= total;
  if (sumHolds) return { findings, mismatches };
  if (total === 0) {
    // No event was ever late: every window short of its raw events is wrong.
    for (const w of facts.short.examples)
      findings.push({
        kind: 'window_mismatch',
        table,
        ...(w.file ? { files: [w.file] } : {}),
        message: `window ${describe(w)}: fewer page views than raw events, and no event was late`,
      });
    mismatches += facts.short.count;
  } else {
    mismatches += 1;
    findings.push({
      kind: 'window_mismatch',
      table,
      message: `raw events missing from windows add up to ${facts.short.sum} over ${facts.short.count} windows, the checkpoint store counts ${total} late events${comparison.mode === 'bounded' ? ' in all (more than all of them)' : ''}; windows short of raw events: ${facts.short.examples.map(describe).join('; ')}`,
    });
  }
  return { findings, mismatches };
}
