import { describe, expect, it } from 'vitest';
import { isSdpError } from '../../../src/errors.js';
import { isInWindow } from '../../../src/windows/timeWindow.js';
import { TumblingWindows, windowStartMs } from '../../../src/windows/tumblingWindows.js';

describe('windowStartMs', () => {
  it('aligns to the epoch: floor(t / size) * size', () => {
    expect(windowStartMs(0, 60_000)).toBe(0);
    expect(windowStartMs(59_999, 60_000)).toBe(0);
    expect(windowStartMs(60_000, 60_000)).toBe(60_000);
    expect(windowStartMs(1_700_000_059_123, 60_000)).toBe(1_700_000_040_000);
  });

  it('rounds negative event times down, not towards zero', () => {
    expect(windowStartMs(-1, 60_000)).toBe(-60_000);
    expect(windowStartMs(-60_000, 60_000)).toBe(-60_000);
    expect(windowStartMs(-60_001, 60_000)).toBe(-120_000);
  });
});

describe('TumblingWindows', () => {
  const windows = new TumblingWindows(60_000);

  it('cuts half-open windows [start, start + size): start included, end excluded', () => {
    const w = windows.windowFor(1_700_000_040_000);
    expect(w).toEqual({ startMs: 1_700_000_040_000, endMs: 1_700_000_100_000 });
    expect(isInWindow(w, w.startMs)).toBe(true);
    expect(isInWindow(w, w.endMs - 1)).toBe(true);
    expect(isInWindow(w, w.endMs)).toBe(false);
    expect(isInWindow(w, w.startMs - 1)).toBe(false);
    expect(windows.windowFor(w.endMs).startMs).toBe(w.endMs);
    expect(windows.windowFor(w.endMs - 1).startMs).toBe(w.startMs);
  });

  it('recognises window starts', () => {
    expect(windows.isWindowStart(1_700_000_040_000)).toBe(true);
    expect(windows.isWindowStart(1_700_000_040_001)).toBe(false);
    expect(windows.isWindowStart(Number.NaN)).toBe(false);
    expect(windows.isWindowStart(-60_000)).toBe(true);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects size %s with a stable code', (sizeMs) => {
    let caught: unknown;
    try {
      new TumblingWindows(sizeMs);
    } catch (err) {
      caught = err;
    }
    expect(isSdpError(caught, 'SDP_ERR_WINDOW_INVALID_INPUT')).toBe(true);
  });
});
