import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureRootMarker, markNewRoot, parseRootMarker, readRootMarker, ROOT_MARKER_FILE } from '../../../src/storage/rootMarker.js';

describe('.sdp-root markers', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'sdp-marker-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('the agreed format: {"kind", "created"} JSON in .sdp-root', () => {
    const root = join(tmp(), 'lake');
    const { written, marker } = ensureRootMarker(root, 'datalake', new Date('2026-12-01T10:00:00Z'));
    expect(written).toBe(true);
    expect(JSON.parse(readFileSync(join(root, ROOT_MARKER_FILE), 'utf8'))).toEqual({ kind: 'datalake', created: '2026-12-01T10:00:00.000Z' });
    expect(readRootMarker(root)).toEqual(marker);
  });

  it('never overwrites an existing marker', () => {
    const root = tmp();
    ensureRootMarker(root, 'checkpoints');
    expect(ensureRootMarker(root, 'datalake')).toEqual({ written: false, marker: expect.objectContaining({ kind: 'checkpoints' }) });
  });

  it('rejects what is not a marker', () => {
    expect(parseRootMarker('{"kind":"home","created":"2026-12-01T10:00:00Z"}')).toBeUndefined();
    expect(parseRootMarker('{"kind":"datalake","created":"yesterday"}')).toBeUndefined();
    expect(parseRootMarker('datalake')).toBeUndefined();
  });

  it('the first run marks a new or empty root, never one that already holds something', () => {
    const base = tmp();
    expect(markNewRoot(join(base, 'new'), 'datalake')).toBe(true);
    mkdirSync(join(base, 'empty'));
    expect(markNewRoot(join(base, 'empty'), 'checkpoints')).toBe(true);
    mkdirSync(join(base, 'used'));
    writeFileSync(join(base, 'used', 'photo.jpg'), 'x');
    expect(markNewRoot(join(base, 'used'), 'datalake')).toBe(false);
    expect(readRootMarker(join(base, 'used'))).toBeUndefined();
  });
});
