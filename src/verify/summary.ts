/**
 * The counts `verify` ends with, and its last line (architecture.md, "Verifying the lake"). Pure.
 */
import { isFailure, type Finding } from './findings.js';

export interface VerifyCounts {
  /** Committed Parquet files whose footers were read. */
  files: number;
  /** Rows over those files (footers). */
  rows: number;
  gaps: number;
  overlaps: number;
  count_mismatches: number;
  /** Rows of clickstream_agg checked. */
  windows: number;
  window_mismatches: number;
  /** Ranges Kafka no longer holds (below the log start): checked by tiling alone. */
  unverifiable_ranges: number;
  /** Ranges retention deleted on purpose (the lake's expiry record): not checked, never a gap. */
  expired_ranges: number;
  /** Day manifests checked (architecture.md, "Sealed days"). */
  sealed_manifests: number;
  /** Listed files missing or differing, files the seal should have listed. */
  manifest_mismatches: number;
  /** Files newer than their day's manifest, for the sealer's next pass: not a failure. */
  manifest_pending: number;
}

export function emptyCounts(): VerifyCounts {
  return {
    files: 0,
    rows: 0,
    gaps: 0,
    overlaps: 0,
    count_mismatches: 0,
    windows: 0,
    window_mismatches: 0,
    unverifiable_ranges: 0,
    expired_ranges: 0,
    sealed_manifests: 0,
    manifest_mismatches: 0,
    manifest_pending: 0,
  };
}

/**
 * `verify: files=N rows=N gaps=N overlaps=N count_mismatches=N windows=N window_mismatches=N unverifiable_ranges=N
 * expired_ranges=N sealed_manifests=N manifest_mismatches=N manifest_pending=N` (new counts go at the end: scripts
 * match the fields before them).
 */
export function summaryLine(c: VerifyCounts): string {
  return `verify: files=${c.files} rows=${c.rows} gaps=${c.gaps} overlaps=${c.overlaps} count_mismatches=${c.count_mismatches} windows=${c.windows} window_mismatches=${c.window_mismatches} unverifiable_ranges=${c.unverifiable_ranges} expired_ranges=${c.expired_ranges} sealed_manifests=${c.sealed_manifests} manifest_mismatches=${c.manifest_mismatches} manifest_pending=${c.manifest_pending}`;
}

/** The lake holds up only when no finding is a failure (notes aside). */
export function verifyPassed(findings: readonly Finding[]): boolean {
  return !findings.some(isFailure);
}
