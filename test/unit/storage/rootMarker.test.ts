import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ensureRootMarker,
  parseRootMarker,
  readRootMarker,
  ROOT_MARKER_FILE,
  writeRootMarker,
} from '../../../src/storage/rootMarker.js';

describe('.sdp-root markers (the format shared with the clean commands)', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'sdp-marker-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('{"kind", "created"} JSON in .sdp-root', () => {
    const root = join(tmp(), 'lake');
    const marker = writeRootMarker(root, 'datalake', new Date('2026-12-01T10:00:00Z'));
    expect(JSON.parse(readFileSync(join(root, ROOT_MARKER_FILE), 'utf8'))).toEqual({
      kind: 'datalake',
      created: '2026-12-01T10:00:00.000Z',
    });
    expect(readRootMarker(root)).toEqual({ status: 'ok', marker });
  });

  it('rejects what is not a marker', () => {
    expect(parseRootMarker('{"kind":"home","created":"2026-12-01T10:00:00Z"}').status).toBe('invalid');
    expect(parseRootMarker('{"kind":"datalake","created":"yesterday"}').status).toBe('invalid');
    expect(parseRootMarker('datalake').status).toBe('invalid');
  });

  it('the first run marks a new or empty root, never one that already holds something, and refuses another kind', () => {
    const base = tmp();
    expect(ensureRootMarker(join(base, 'new'), 'datalake')).toBe('written');
    mkdirSync(join(base, 'empty'));
    expect(ensureRootMarker(join(base, 'empty'), 'checkpoints')).toBe('written');
    mkdirSync(join(base, 'used'));
    writeFileSync(join(base, 'used', 'photo.jpg'), 'x');
    expect(ensureRootMarker(join(base, 'used'), 'datalake')).toBe('unmarked');
    expect(readRootMarker(join(base, 'used')).status).toBe('missing');
    expect(ensureRootMarker(join(base, 'new'), 'datalake')).toBe('present');
    expect(() => ensureRootMarker(join(base, 'new'), 'checkpoints')).toThrow(/marked as the platform's datalake root/);
  });
});
