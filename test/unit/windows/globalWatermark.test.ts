import { describe, expect, it } from 'vitest';
import { combineWatermarks } from '../../../src/windows/globalWatermark.js';

const active = (watermarkMs: number) => ({ watermarkMs, idle: false });
const idle = (watermarkMs: number) => ({ watermarkMs, idle: true });

describe('combineWatermarks', () => {
  it('is the min over the partitions that are not idle', () => {
    expect(combineWatermarks([active(50), active(20), idle(10), active(70)], -Infinity)).toBe(20);
  });

  it('is the max when every partition is idle', () => {
    expect(combineWatermarks([idle(50), idle(20), idle(-Infinity)], -Infinity)).toBe(50);
  });

  it('a partition without a watermark holds it at -Infinity unless idle', () => {
    expect(combineWatermarks([active(50), active(-Infinity)], -Infinity)).toBe(-Infinity);
    expect(combineWatermarks([active(50), idle(-Infinity)], -Infinity)).toBe(50);
  });

  it('never goes backwards, and stays put with no partitions', () => {
    expect(combineWatermarks([active(20)], 40)).toBe(40);
    expect(combineWatermarks([], 40)).toBe(40);
    expect(combineWatermarks([], -Infinity)).toBe(-Infinity);
  });
});
